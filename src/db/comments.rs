//! SQL of `person_comments`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::time;

/// `AssigneePerson`, the author of a comment.
pub use super::people::AssigneePerson as CommentAuthor;

/// `CommentView`: `Row(PersonComment) + {author}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: String,
    pub content: String,
    pub person_id: String,
    pub author_id: String,
    pub author_person_id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
    pub author: CommentAuthor,
}

const VIEW: &str = concat!(
    "json_build_object(
    'id', c.id, 'content', c.content, 'personId', c.person_id, 'authorId', c.author_id,
    'authorPersonId', c.author_person_id,
    'createdAt', ",
    time::epoch_ms!("c.created_at"),
    ", 'updatedAt', ",
    time::epoch_ms!("c.updated_at"),
    ",
    'author', json_build_object('id', a.id, 'firstName', a.first_name, 'lastName', a.last_name,
                                'imageUrl', a.image_url))"
);

/// Comments about a person, newest first.
pub async fn about(
    conn: &mut PgConnection,
    person_id: &str,
) -> Result<Vec<CommentView>, sqlx::Error> {
    let sql = format!(
        "SELECT {VIEW} FROM person_comments c JOIN people a ON a.id = c.author_person_id
         WHERE c.person_id = $1 ORDER BY c.created_at DESC, c.id DESC"
    );
    let rows: Vec<(Json<CommentView>,)> = crate::db::sql::query_as(&sql)
        .bind(person_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

/// Inserts a comment and returns its view (one statement).
pub async fn insert(
    conn: &mut PgConnection,
    id: &str,
    person_id: &str,
    author_id: &str,
    author_person_id: &str,
    content: &str,
) -> Result<CommentView, sqlx::Error> {
    let sql = format!(
        "WITH c AS (
             INSERT INTO person_comments (id, content, person_id, author_id, author_person_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *)
         SELECT {VIEW} FROM c JOIN people a ON a.id = c.author_person_id"
    );
    let (Json(v),): (Json<CommentView>,) = crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(content)
        .bind(person_id)
        .bind(author_id)
        .bind(author_person_id)
        .bind(time::now())
        .fetch_one(conn)
        .await?;
    Ok(v)
}

/// Updates the author's own comment; `None` when missing or not theirs.
pub async fn update_own(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
    content: &str,
) -> Result<Option<CommentView>, sqlx::Error> {
    let sql = format!(
        "WITH c AS (
             UPDATE person_comments SET content = $3, updated_at = $4
             WHERE id = $1 AND author_id = $2 RETURNING *)
         SELECT {VIEW} FROM c JOIN people a ON a.id = c.author_person_id"
    );
    let row: Option<(Json<CommentView>,)> = crate::db::sql::query_as(&sql)
        .bind(id)
        .bind(author_id)
        .bind(content)
        .bind(time::now())
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(Json(v),)| v))
}

/// Deletes the author's own comment; `false` when missing or not theirs.
pub async fn delete_own(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
) -> Result<bool, sqlx::Error> {
    let done =
        crate::db::sql::query("DELETE FROM person_comments WHERE id = $1 AND author_id = $2")
            .bind(id)
            .bind(author_id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}
