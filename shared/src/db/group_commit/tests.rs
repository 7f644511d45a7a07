use std::path::PathBuf;
use std::time::Duration;

use diesel::RunQueryDsl as _;
use diesel::sql_types::BigInt;

use crate::config::{DatabaseSettings, DatabaseUrl};
use crate::db::{Db, DbError};

/// A fresh SQLite database with a table `notes (id INTEGER PRIMARY KEY, body TEXT)`, and
/// the folder to remove afterwards.
async fn notes_database(name: &str) -> (Db, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "group-commit-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::connect_server(&DatabaseSettings {
        url: DatabaseUrl::Sqlite(dir.join("db.sqlite3")),
        url_given: true,
        pool_size: 4,
        timeout: Duration::from_secs(5),
    });
    db.migrate().unwrap();
    db.run(|conn| {
        diesel::sql_query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(conn)
            .map_err(DbError::from)
    })
    .await
    .unwrap();
    (db, dir)
}

fn insert_note(conn: &mut crate::db::DbConnection, id: i64) -> Result<usize, DbError> {
    Ok(diesel::sql_query(format!(
        "INSERT INTO notes (id, body) VALUES ({id}, 'note {id}')"
    ))
    .execute(conn)?)
}

fn note_ids(conn: &mut crate::db::DbConnection) -> Result<Vec<i64>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Id> = diesel::sql_query("SELECT id FROM notes ORDER BY id").load(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

#[actix_web::test]
async fn concurrent_writes_all_land_in_fewer_commits_than_writes() {
    let (db, dir) = notes_database("concurrent").await;
    let writes = (0..200).map(|id| db.write(move |conn| insert_note(conn, id)));
    let results = futures_util::future::join_all(writes).await;
    assert!(results.iter().all(|result| matches!(result, Ok(1))));
    assert_eq!(
        db.run(note_ids).await.unwrap(),
        (0..200).collect::<Vec<_>>()
    );
    let (groups, grouped_writes) = db.committed_groups().unwrap();
    assert_eq!(grouped_writes, 200);
    assert!(
        groups < 200,
        "200 writes queued at once took {groups} commits"
    );
    drop(db);
    let _removed = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn an_answer_comes_only_once_its_write_is_visible_to_other_connections() {
    let (db, dir) = notes_database("visible").await;
    let writes = (0..64).map(|id| {
        let db = db.clone();
        async move {
            db.write(move |conn| insert_note(conn, id)).await.unwrap();
            // Another connection (a reader on the pool) sees only what has committed.
            db.run(note_ids).await.unwrap().contains(&id)
        }
    });
    let seen = futures_util::future::join_all(writes).await;
    assert!(seen.iter().all(|visible| *visible));
    drop(db);
    let _removed = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn a_failing_write_rolls_back_its_own_writes_and_no_other() {
    let (db, dir) = notes_database("failing").await;
    let writes = (0..40).map(|id| {
        db.write(move |conn| {
            insert_note(conn, id)?;
            if id % 4 == 0 {
                // Fails after writing: its row must go, the others' stay.
                insert_note(conn, id)?;
            }
            Ok::<_, DbError>(id)
        })
    });
    let results = futures_util::future::join_all(writes).await;
    for (id, result) in (0..40).zip(&results) {
        assert_eq!(result.is_err(), id % 4 == 0, "write {id}: {result:?}");
    }
    let expected: Vec<i64> = (0..40).filter(|id| id % 4 != 0).collect();
    assert_eq!(db.run(note_ids).await.unwrap(), expected);
    drop(db);
    let _removed = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn a_panicking_write_is_cancelled_and_the_writer_goes_on() {
    let (db, dir) = notes_database("panicking").await;
    let panicked: Result<(), DbError> = db
        .write(|conn| {
            insert_note(conn, 1)?;
            panic!("a bug in a write");
        })
        .await;
    assert!(matches!(panicked, Err(DbError::Cancelled)), "{panicked:?}");
    assert_eq!(db.write(|conn| insert_note(conn, 2)).await.unwrap(), 1);
    // The panicking write's row was rolled back with its group.
    assert_eq!(db.run(note_ids).await.unwrap(), vec![2]);
    drop(db);
    let _removed = std::fs::remove_dir_all(&dir);
}
