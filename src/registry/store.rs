//! The registry's rows: one append-only table of changes (see `migrations/`). A write takes
//! the enterprise's next version; two writers racing for it meet the primary key, and the
//! loser tries again.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use sqlx::Row as _;

use super::{Change, History, Record, Snapshot};
use crate::database::Database;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    /// A stored row that no longer reads: `record` names it (`XZ-0001 v3`, a bill id).
    #[error("stored record {record} cannot be read: {message}")]
    Corrupt { record: String, message: String },
    #[error("enterprise {0}: too many concurrent writes; try again")]
    Contended(String),
}

/// Every change of `enterprise_id`, in version order (empty when unknown).
pub async fn history(db: &Database, enterprise_id: &str) -> Result<History, StoreError> {
    let rows = sqlx::query(
        "SELECT enterprise_id, version, kind, year, body, recorded_at, recorded_by \
         FROM registry_changes WHERE enterprise_id = $1 ORDER BY version",
    )
    .bind(enterprise_id)
    .fetch_all(db.pool())
    .await?;
    let changes = rows.iter().map(change).collect::<Result<_, _>>()?;
    Ok(History(changes))
}

/// The whole registry: every enterprise's history, and how many changes it holds.
pub async fn snapshot(db: &Database) -> Result<Snapshot, StoreError> {
    let mut histories: HashMap<String, History> = HashMap::new();
    for (enterprise_id, change) in changes_since(db, None).await? {
        histories.entry(enterprise_id).or_default().0.push(change);
    }
    let mut snapshot = Snapshot::default();
    for (enterprise_id, history) in histories {
        snapshot.insert(&enterprise_id, history);
    }
    Ok(snapshot)
}

/// Every change recorded at or after `since` (all, without it), by enterprise and version.
pub async fn changes_since(
    db: &Database,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<(String, Change)>, StoreError> {
    let rows = sqlx::query(
        "SELECT enterprise_id, version, kind, year, body, recorded_at, recorded_by \
         FROM registry_changes WHERE recorded_at >= $1 ORDER BY enterprise_id, version",
    )
    // RFC 3339 in UTC, to the second, as every change is written: ordered as text.
    .bind(since.map_or(String::new(), |t| t.to_rfc3339()))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("enterprise_id")?, change(row)?)))
        .collect()
}

/// How many changes the registry holds: it only grows, so an unchanged count is an
/// unchanged registry.
pub async fn count(db: &Database) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM registry_changes")
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// One stored row as a change.
fn change(row: &sqlx::any::AnyRow) -> Result<Change, StoreError> {
    let version: i64 = row.try_get("version")?;
    let corrupt = |message: String| StoreError::Corrupt {
        record: format!(
            "{} v{version}",
            row.try_get::<String, _>("enterprise_id")
                .unwrap_or_default()
        ),
        message,
    };
    let kind: String = row.try_get("kind")?;
    let year: i64 = row.try_get("year")?;
    let body: String = row.try_get("body")?;
    let record = match kind.as_str() {
        "master" => serde_json::from_str(&body).map(|data| Record::Master { data }),
        "classification" => {
            serde_json::from_str(&body).map(|decision| Record::Classification { decision })
        }
        "assessment" => serde_json::from_str(&body).map(|assessment| Record::Assessment {
            year: year as i32,
            assessment: Box::new(assessment),
        }),
        other => return Err(corrupt(format!("unknown kind `{other}`"))),
    }
    .map_err(|e| corrupt(e.to_string()))?;
    let recorded_at: String = row.try_get("recorded_at")?;
    Ok(Change {
        version,
        record,
        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
            .map_err(|e| corrupt(e.to_string()))?
            .with_timezone(&Utc),
        recorded_by: row.try_get("recorded_by")?,
    })
}

/// A record as stored: its kind, year, JSON body and document.
struct Stored {
    kind: &'static str,
    year: i64,
    body: String,
    document: String,
}

impl Stored {
    fn of(record: &Record) -> Stored {
        let (kind, year, body, document) = match record {
            Record::Master { data } => ("master", 0, serde_json::to_string(data), String::new()),
            Record::Classification { decision } => (
                "classification",
                0,
                serde_json::to_string(decision),
                decision.document.clone(),
            ),
            Record::Assessment { year, assessment } => (
                "assessment",
                i64::from(*year),
                serde_json::to_string(assessment),
                assessment.document.clone(),
            ),
        };
        Stored {
            kind,
            year,
            body: body.expect("registry records serialise"),
            document,
        }
    }
}

/// Inserts `row` as the enterprise's next version, taken in the insert itself (SQLite runs
/// it under its write lock); `None` when a racing writer took that version first.
async fn insert<'c, E>(
    executor: E,
    enterprise_id: &str,
    row: &Stored,
    recorded_at: &DateTime<Utc>,
    recorded_by: &str,
) -> Result<Option<i64>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let inserted = sqlx::query(
        "INSERT INTO registry_changes \
         (enterprise_id, version, kind, year, body, document, recorded_at, recorded_by) \
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7 \
         FROM registry_changes WHERE enterprise_id = $1 \
         RETURNING version",
    )
    .bind(enterprise_id)
    .bind(row.kind)
    .bind(row.year)
    .bind(&row.body)
    .bind(&row.document)
    .bind(recorded_at.to_rfc3339())
    .bind(recorded_by)
    .fetch_one(executor)
    .await;
    match inserted {
        Ok(row) => Ok(Some(row.try_get("version")?)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Appends `record` as the enterprise's next version; returns the change as stored. On
/// PostgreSQL two racing writers may take the same version: the loser goes again.
pub async fn append(
    db: &Database,
    enterprise_id: &str,
    record: Record,
    recorded_by: &str,
) -> Result<Change, StoreError> {
    let row = Stored::of(&record);
    let recorded_at = crate::database::now();
    for attempt in 0..16 {
        if let Some(version) =
            insert(db.pool(), enterprise_id, &row, &recorded_at, recorded_by).await?
        {
            return Ok(Change {
                version,
                record,
                recorded_at,
                recorded_by: recorded_by.to_string(),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            attempt + fastrand::u64(0..5),
        ))
        .await;
    }
    Err(StoreError::Contended(enterprise_id.to_string()))
}

/// Appends every record in one transaction: all are recorded, or none. Each enterprise's
/// records take its next versions in file order. A writer racing for one of those versions
/// meets the primary key, and the whole file goes again.
pub async fn append_all(
    db: &Database,
    records: &[(String, Record)],
    recorded_by: &str,
) -> Result<(), StoreError> {
    let recorded_at = crate::database::now();
    for attempt in 0..8 {
        match try_append_all(db, records, &recorded_at, recorded_by).await {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let pause = 10 * (attempt + 1) + fastrand::u64(0..10);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            done => return Ok(done?),
        }
    }
    let first = records.first().map(|(id, _)| id.clone());
    Err(StoreError::Contended(first.unwrap_or_default()))
}

/// Enterprise ids per `IN (…)` list, and rows per `INSERT`: within SQLite's and
/// PostgreSQL's limits on bound values.
const IDS_PER_QUERY: usize = 500;
const ROWS_PER_INSERT: usize = 500;

async fn try_append_all(
    db: &Database,
    records: &[(String, Record)],
    recorded_at: &DateTime<Utc>,
    recorded_by: &str,
) -> Result<(), sqlx::Error> {
    let mut transaction = db.pool().begin().await?;
    let mut ids: Vec<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut latest: HashMap<&str, i64> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let sql = format!(
            "SELECT enterprise_id, MAX(version) AS version FROM registry_changes \
             WHERE enterprise_id IN {} GROUP BY enterprise_id",
            db.parameter_rows(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *transaction).await? {
            let id: String = row.try_get("enterprise_id")?;
            let version: i64 = row.try_get("version")?;
            if let Some(id) = chunk.iter().find(|i| **i == id) {
                latest.insert(id, version);
            }
        }
    }
    let at = recorded_at.to_rfc3339();
    for rows in records.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO registry_changes \
             (enterprise_id, version, kind, year, body, document, recorded_at, recorded_by) \
             VALUES {}",
            db.parameter_rows(rows.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for (enterprise_id, record) in rows {
            let version = latest.entry(enterprise_id.as_str()).or_insert(0);
            *version += 1;
            let row = Stored::of(record);
            query = query
                .bind(enterprise_id.as_str())
                .bind(*version)
                .bind(row.kind)
                .bind(row.year)
                .bind(row.body)
                .bind(row.document)
                .bind(at.clone())
                .bind(recorded_by);
        }
        query.execute(&mut *transaction).await?;
    }
    transaction.commit().await
}
