//! The ledger's rows (see `migrations/0002_ledger.sql`). Inserts never overwrite: a bill
//! already stored (same `bill_id`), or a key already used, leaves the row as it was, which is
//! what makes issuing idempotent across instances sharing one database.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use super::Entry;
use crate::database::Database;
use crate::registry::store::StoreError;

const COLUMNS: &str = "bill_id, enterprise_id, period_start, period_end, surcharge, total, \
     tariff_id, tariff_digest, registry_version, request, bill, issued_at, issued_by, \
     idempotency_key, request_digest, corrects, cause";
const WIDTH: usize = 17;

/// Rows per INSERT: within SQLite's and PostgreSQL's limits on bound values.
const ROWS_PER_INSERT: usize = 256;

/// What issuing a bill did.
#[derive(Debug)]
pub enum Issued {
    /// Stored now.
    New(Entry),
    /// Stored before (the same key, or the same bill): the stored one.
    Before(Entry),
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("`Idempotency-Key` {0:?} was used with a different request")]
    KeyReused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IssueError {
    fn from(e: sqlx::Error) -> IssueError {
        IssueError::Store(e.into())
    }
}

/// Issues `entry`: stored unless its key or its bill was stored before, in which case the
/// stored bill is the answer (a key sent with another request is refused).
pub async fn issue(db: &Database, entry: Entry) -> Result<Issued, IssueError> {
    if let Some(key) = &entry.idempotency_key {
        if let Some(stored) = keyed(db, &entry, key).await? {
            return Ok(Issued::Before(stored));
        }
    }
    if insert(db, std::slice::from_ref(&entry)).await? == 1 {
        return Ok(Issued::New(entry));
    }
    let Some(stored) = get(db, &entry.bill_id).await? else {
        // A key's row raced this one, or (rows are never deleted) nothing else can be.
        return raced(db, &entry).await;
    };
    // The bill was stored before, without this key: the key is bound to this request now,
    // so that it is never taken for another one.
    if let Some(key) = &entry.idempotency_key {
        let bound = sqlx::query(
            "INSERT INTO ledger_keys (issued_by, idempotency_key, request_digest, bill_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&entry.issued_by)
        .bind(key)
        .bind(&entry.request_digest)
        .bind(&stored.bill_id)
        .execute(db.pool())
        .await?
        .rows_affected();
        if bound == 0 {
            return raced(db, &entry).await;
        }
    }
    Ok(Issued::Before(stored))
}

/// What a racing writer stored for `entry`: the bill its key answered, if it has one.
async fn raced(db: &Database, entry: &Entry) -> Result<Issued, IssueError> {
    let answered = match &entry.idempotency_key {
        Some(key) => keyed(db, entry, key).await?,
        None => None,
    };
    answered
        .map(Issued::Before)
        .ok_or_else(|| StoreError::Contended(entry.enterprise_id.clone()).into())
}

/// The bill `key` answered before, if it did: refused if it came with another request.
async fn keyed(db: &Database, entry: &Entry, key: &str) -> Result<Option<Entry>, IssueError> {
    let Some((digest, stored)) = by_key(db, &entry.issued_by, key).await? else {
        return Ok(None);
    };
    if digest != entry.request_digest {
        return Err(IssueError::KeyReused(key.to_string()));
    }
    Ok(Some(stored))
}

/// Stores every entry not stored before, in one transaction; how many were new.
pub async fn insert(db: &Database, entries: &[Entry]) -> Result<u64, StoreError> {
    let mut transaction = db.pool().begin().await?;
    let mut stored = 0;
    for rows in entries.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO ledger_bills ({COLUMNS}) VALUES {} ON CONFLICT DO NOTHING",
            db.parameter_rows(rows.len(), WIDTH)
        );
        let mut query = sqlx::query(&sql);
        for e in rows {
            query = query
                .bind(&e.bill_id)
                .bind(&e.enterprise_id)
                .bind(e.period_start.to_string())
                .bind(e.period_end.to_string())
                .bind(e.surcharge.to_string())
                .bind(e.total.to_string())
                .bind(&e.tariff_id)
                .bind(&e.tariff_digest)
                .bind(e.registry_version)
                .bind(&e.request)
                .bind(&e.bill)
                .bind(e.issued_at.to_rfc3339())
                .bind(&e.issued_by)
                .bind(&e.idempotency_key)
                .bind(&e.request_digest)
                .bind(&e.corrects)
                .bind(&e.cause);
        }
        stored += query.execute(&mut *transaction).await?.rows_affected();
    }
    transaction.commit().await?;
    Ok(stored)
}

pub async fn get(db: &Database, bill_id: &str) -> Result<Option<Entry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM ledger_bills WHERE bill_id = $1");
    let row = sqlx::query(&sql)
        .bind(bill_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(entry).transpose()
}

/// The bill a key answered and the digest of the request it first came with: stored on the
/// bill's row when the key issued it, in `ledger_keys` when it answered a bill stored before.
async fn by_key(
    db: &Database,
    issued_by: &str,
    key: &str,
) -> Result<Option<(String, Entry)>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM ledger_bills WHERE issued_by = $1 AND idempotency_key = $2");
    let row = sqlx::query(&sql)
        .bind(issued_by)
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    if let Some(stored) = row.as_ref().map(entry).transpose()? {
        return Ok(Some((stored.request_digest.clone(), stored)));
    }
    let bound = sqlx::query(
        "SELECT request_digest, bill_id FROM ledger_keys WHERE issued_by = $1 AND idempotency_key = $2",
    )
    .bind(issued_by)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    let Some(bound) = bound else {
        return Ok(None);
    };
    let (digest, bill_id): (String, String) =
        (bound.try_get("request_digest")?, bound.try_get("bill_id")?);
    Ok(get(db, &bill_id).await?.map(|stored| (digest, stored)))
}

/// Which bills a listing wants.
#[derive(Debug, Default)]
pub struct Filter {
    pub enterprise_id: Option<String>,
    /// Bills whose period ends on or after this day.
    pub from: Option<NaiveDate>,
    /// Bills whose period starts on or before this day.
    pub to: Option<NaiveDate>,
    /// Only bills not yet corrected by a later one.
    pub uncorrected: bool,
    /// Only bills filled from the registry.
    pub from_registry: bool,
    /// The page after this bill (in the listing's order).
    pub after: Option<String>,
    pub limit: u32,
}

/// A page of the bills `filter` wants, ordered by enterprise, period and bill id.
pub async fn list(db: &Database, filter: &Filter) -> Result<Vec<Entry>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM ledger_bills b WHERE 1 = 1");
    let mut values: Vec<String> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, value: String| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(id) = &filter.enterprise_id {
        bind(&mut sql, " AND enterprise_id = ?", id.clone());
    }
    if let Some(from) = filter.from {
        bind(&mut sql, " AND period_end >= ?", from.to_string());
    }
    if let Some(to) = filter.to {
        bind(&mut sql, " AND period_start <= ?", to.to_string());
    }
    if let Some(after) = &filter.after {
        bind(
            &mut sql,
            " AND (enterprise_id, period_start, bill_id) > \
             (SELECT enterprise_id, period_start, bill_id FROM ledger_bills WHERE bill_id = ?)",
            after.clone(),
        );
    }
    if filter.uncorrected {
        sql.push_str(" AND NOT EXISTS (SELECT 1 FROM ledger_bills c WHERE c.corrects = b.bill_id)");
    }
    if filter.from_registry {
        sql.push_str(" AND registry_version IS NOT NULL");
    }
    sql.push_str(&format!(
        " ORDER BY enterprise_id, period_start, bill_id LIMIT {}",
        filter.limit
    ));
    let mut query = sqlx::query(&sql);
    for value in &values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(entry).collect()
}

/// How many bills the ledger holds.
pub async fn count(db: &Database) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM ledger_bills")
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

fn entry(row: &AnyRow) -> Result<Entry, StoreError> {
    let bill_id: String = row.try_get("bill_id")?;
    let corrupt = |message: String| StoreError::Corrupt {
        record: bill_id.clone(),
        message,
    };
    let date = |column: &str| -> Result<NaiveDate, StoreError> {
        let text: String = row.try_get(column)?;
        text.parse().map_err(|e| corrupt(format!("{column}: {e}")))
    };
    let money = |column: &str| -> Result<Decimal, StoreError> {
        let text: String = row.try_get(column)?;
        text.parse().map_err(|e| corrupt(format!("{column}: {e}")))
    };
    let issued_at: String = row.try_get("issued_at")?;
    Ok(Entry {
        enterprise_id: row.try_get("enterprise_id")?,
        period_start: date("period_start")?,
        period_end: date("period_end")?,
        surcharge: money("surcharge")?,
        total: money("total")?,
        tariff_id: row.try_get("tariff_id")?,
        tariff_digest: row.try_get("tariff_digest")?,
        registry_version: row.try_get("registry_version")?,
        request: row.try_get("request")?,
        bill: row.try_get("bill")?,
        issued_at: DateTime::parse_from_rfc3339(&issued_at)
            .map_err(|e| corrupt(format!("issued_at: {e}")))?
            .with_timezone(&Utc),
        issued_by: row.try_get("issued_by")?,
        idempotency_key: row.try_get("idempotency_key")?,
        request_digest: row.try_get("request_digest")?,
        corrects: row.try_get("corrects")?,
        cause: row.try_get("cause")?,
        bill_id,
    })
}

/// The request of each enterprise's latest uncorrected bill for a period starting within
/// `from..=to`, in enterprise order: what each enterprise was metered, as issued.
pub async fn latest_requests(
    db: &Database,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT enterprise_id, request FROM ledger_bills b \
         WHERE period_start >= $1 AND period_start <= $2 \
         AND NOT EXISTS (SELECT 1 FROM ledger_bills c WHERE c.corrects = b.bill_id) \
         ORDER BY enterprise_id, issued_at DESC, bill_id",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(db.pool())
    .await?;
    let mut requests: Vec<(String, String)> = Vec::new();
    for row in rows {
        let id: String = row.try_get("enterprise_id")?;
        if requests.last().is_some_and(|(last, _)| *last == id) {
            continue;
        }
        requests.push((id, row.try_get("request")?));
    }
    Ok(requests)
}
