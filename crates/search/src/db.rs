//! `tracks.db` opens and migrates through the house SQLite runner (vigie-sqlite),
//! like `vigie.db`.

pub use vigie_sqlite::Error as DbError;
pub(crate) use vigie_sqlite::{migrate, sql_err};
