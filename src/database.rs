//! The service's database: SQLite embedded by default (a file, created and migrated on
//! start, nothing to install), PostgreSQL for a fleet (`database.url = "postgres://…"`).
//! Both go through sqlx's `Any` driver with the same portable SQL and the same migrations
//! (`migrations/`), so there is one code path.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database {url}: cannot create its directory {dir}: {source}")]
    Directory {
        url: String,
        dir: String,
        source: std::io::Error,
    },
    #[error("database {url}: migrating the schema failed: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// A pool of connections to the migrated database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    sqlite: bool,
}

impl Database {
    /// Opens (creating a SQLite file and its directory if need be) and migrates the database
    /// at `url`: `sqlite://path/to/file.db`, `sqlite::memory:`, or `postgres://…`.
    pub async fn open(url: &str) -> Result<Database, DatabaseError> {
        sqlx::any::install_default_drivers();
        let open = |source| DatabaseError::Open {
            url: url.to_string(),
            source,
        };
        let url_to_open = match url.strip_prefix("sqlite://") {
            Some(path) => {
                create_parent(url, path)?;
                // Created if missing; WAL lets readers go on while one writer writes.
                let separator = if path.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            None => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url_to_open).map_err(open)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if url.starts_with("sqlite") { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(|connection, _| {
                Box::pin(async move {
                    if connection.backend_name() == "SQLite" {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *connection)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *connection)
                            .await?;
                        // The ledger's bill ids are hashes: its primary-key index takes
                        // inserts all over, and a page cache of SQLite's default 2 MB
                        // would go to disk for nearly every one of them.
                        sqlx::query("PRAGMA cache_size = -65536")
                            .execute(&mut *connection)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(open)?;
        sqlx::migrate!()
            .run(&pool)
            .await
            .map_err(|source| DatabaseError::Migrate {
                url: url.to_string(),
                source,
            })?;
        Ok(Database {
            pool,
            sqlite: url.starts_with("sqlite"),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `(…), (…)`: `rows` rows of `width` parameters for a multi-row `VALUES` or `IN`.
    /// SQLite gets anonymous `?` (sqlx looks each numbered one up by name, which takes time
    /// quadratic in their number); PostgreSQL its `$1, $2, …`.
    pub fn parameter_rows(&self, rows: usize, width: usize) -> String {
        let mut sql = String::with_capacity(rows * width * 6);
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                match self.sqlite {
                    true => sql.push('?'),
                    false => sql.push_str(&format!("${}", row * width + column + 1)),
                }
            }
            sql.push(')');
        }
        sql
    }

    /// Whether the database answers within a second (for readiness, whose probes give up
    /// sooner than the pool's acquire timeout).
    pub async fn ping(&self) -> bool {
        let select = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), select).await,
            Ok(Ok(_))
        )
    }
}

/// Now, in whole seconds: the stored text is the same on SQLite and PostgreSQL.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let seconds = chrono::Utc::now().timestamp();
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn create_parent(url: &str, path: &str) -> Result<(), DatabaseError> {
    let file = path.split('?').next().unwrap_or(path);
    match Path::new(file).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| DatabaseError::Directory {
                url: url.to_string(),
                dir: dir.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}
