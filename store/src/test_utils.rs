//! Fresh databases for tests: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server at `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped again when the handle goes. A PostgreSQL server that cannot be reached fails the test:
//! nothing is skipped.

use rand::Rng as _;

use crate::{Backend, Store};

/// Default server for PostgreSQL tests.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The open store.
    pub store: Store,
    /// Its URL, to open it again (a restart in a test).
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        server: String,
        name: String,
    },
    /// A database the test made itself (a private server): left as it is.
    Keep,
}

impl TestDb {
    /// A fresh database on the given engine.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh database on the given engine with these pool settings.
    pub async fn with_pool(backend: Backend, settings: crate::PoolSettings) -> Self {
        let mut db = Self::new(backend).await;
        db.store = Store::connect_with(&db.url, settings).await.expect("reopen the test database");
        db
    }

    /// The database at `url` (on a server the test runs itself) with these pool settings, kept
    /// when the handle goes.
    pub async fn at(url: &str, settings: crate::PoolSettings) -> Self {
        let store = Store::connect_with(url, settings).await.expect("open the test database");
        Self { store, url: url.to_owned(), cleanup: Cleanup::Keep }
    }

    /// A fresh SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("jejak.db").display());
        let store = Store::connect(&url).await.expect("open SQLite test database");
        Self { store, url, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Self {
        let server = server_url();
        let name = format!("jejak_t_{}_{:016x}", std::process::id(), rand::thread_rng().r#gen::<u64>());
        let admin = Admin::connect(&server).await;
        admin.create_database(&name).await;
        let url = database_url(&server, &name);
        let store = Store::connect(&url).await.expect("open PostgreSQL test database");
        Self { store, url, cleanup: Cleanup::Postgres { server, name } }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { server, name } = &self.cleanup {
            let (server, name, pool) = (server.clone(), name.clone(), self.store.pool().clone());
            // Drop runs outside any async context we may block on: use a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    pool.close().await;
                    let admin = Admin::connect(&server).await;
                    admin.drop_database(&name).await;
                });
            })
            .join();
        }
    }
}

/// The PostgreSQL server tests use.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_string())
}

/// The URL of database `name` on the server at `server`.
pub fn database_url(server: &str, name: &str) -> String {
    let base = server.split('?').next().unwrap_or(server);
    let (prefix, _) = base.rsplit_once('/').expect("a PostgreSQL URL has a path");
    format!("{prefix}/{name}")
}

struct Admin(sqlx::AnyPool);

impl Admin {
    async fn connect(server: &str) -> Admin {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(server)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for this test: {e}", crate::redact(server)));
        Admin(pool)
    }

    async fn create_database(&self, name: &str) {
        let sql = format!("CREATE DATABASE \"{name}\"");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&self.0).await.expect("create test database");
    }

    async fn drop_database(&self, name: &str) {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&self.0).await;
        self.0.close().await;
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL, as two `#[tokio::test]`s named
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($db:ident: $ty:ty) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($db: $ty) $body
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::test_utils::TestDb::sqlite().await).await
            }
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::test_utils::TestDb::postgres().await).await
            }
        }
    };
}
