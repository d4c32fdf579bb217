//! SQL of `meetings` (1:1 notes) and `meeting_templates`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use ts_rs::TS;

use super::time;

/// `{id, firstName, lastName, callsign, imageUrl}` of a meeting's subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MeetingPerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub callsign: Option<String>,
    pub image_url: Option<String>,
}

/// `{id, name}` of a meeting's template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TemplateName {
    pub id: String,
    pub name: String,
}

/// `MeetingView` (exactly these keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MeetingView {
    pub id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub date: NaiveDateTime,
    #[ts(type = "JsonValue")]
    pub content: Value,
    pub author_id: String,
    pub person_id: String,
    pub template_id: Option<String>,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub created_at: NaiveDateTime,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
    pub person: MeetingPerson,
    pub template: Option<TemplateName>,
}

/// `{id}`, what meeting and template mutations return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
pub struct IdOnly {
    pub id: String,
}

const MEETING_VIEW: &str = concat!(
    "json_build_object(
    'id', mt.id, 'date', ",
    time::epoch_ms!("mt.date"),
    ", 'content', mt.content,
    'authorId', mt.author_id, 'personId', mt.person_id, 'templateId', mt.template_id,
    'createdAt', ",
    time::epoch_ms!("mt.created_at"),
    ", 'updatedAt', ",
    time::epoch_ms!("mt.updated_at"),
    ",
    'person', json_build_object('id', p.id, 'firstName', p.first_name, 'lastName', p.last_name,
                                'callsign', p.callsign, 'imageUrl', p.image_url),
    'template', (SELECT json_build_object('id', t.id, 'name', t.name)
                 FROM meeting_templates t WHERE t.id = mt.template_id))"
);

async fn views(
    conn: &mut PgConnection,
    filter: &str,
    order: &str,
    arg: &str,
) -> Result<Vec<MeetingView>, sqlx::Error> {
    let sql = format!(
        "SELECT {MEETING_VIEW} FROM meetings mt JOIN people p ON p.id = mt.person_id \
         WHERE {filter} ORDER BY {order}"
    );
    let rows: Vec<(Json<MeetingView>,)> = crate::db::sql::query_as(&sql)
        .bind(arg)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(Json(v),)| v).collect())
}

/// Meetings written by a Clerk user, by subject then newest date first.
pub async fn by_author(
    conn: &mut PgConnection,
    author_id: &str,
) -> Result<Vec<MeetingView>, sqlx::Error> {
    views(
        conn,
        "mt.author_id = $1",
        "mt.person_id ASC, mt.date DESC, mt.id",
        author_id,
    )
    .await
}

/// Meetings about a person (any author), newest date first.
pub async fn by_subject(
    conn: &mut PgConnection,
    person_id: &str,
) -> Result<Vec<MeetingView>, sqlx::Error> {
    views(conn, "mt.person_id = $1", "mt.date DESC, mt.id", person_id).await
}

pub async fn find(conn: &mut PgConnection, id: &str) -> Result<Option<MeetingView>, sqlx::Error> {
    Ok(views(conn, "mt.id = $1", "mt.id", id).await?.pop())
}

/// The caller's claimed person and the subject's manager, read together:
/// `(caller person id, subject exists, subject's manager id)`.
pub async fn author_and_subject(
    conn: &mut PgConnection,
    clerk_user_id: &str,
    subject: &str,
) -> Result<(Option<String>, bool, Option<String>), sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT (SELECT id FROM people WHERE clerk_user_id = $1),
                EXISTS (SELECT 1 FROM people WHERE id = $2),
                (SELECT manager_id FROM people WHERE id = $2)",
    )
    .bind(clerk_user_id)
    .bind(subject)
    .fetch_one(conn)
    .await
}

pub struct NewMeeting<'a> {
    pub person_id: &'a str,
    pub date: NaiveDateTime,
    pub content: &'a Value,
    pub author_id: &'a str,
    pub template_id: Option<&'a str>,
}

/// Inserts a meeting if `manager` still manages the subject (checked in the
/// same statement). `None` when it does not.
pub async fn insert_for_report(
    conn: &mut PgConnection,
    id: &str,
    m: &NewMeeting<'_>,
    manager: &str,
) -> Result<Option<IdOnly>, sqlx::Error> {
    let now = time::now();
    crate::db::sql::query_as(
        "INSERT INTO meetings (id, date, content, author_id, person_id, template_id, created_at, updated_at)
         SELECT $1, $2, $3, $4, s.id, $6, $7, $7 FROM people s WHERE s.id = $5 AND s.manager_id = $8
         RETURNING id",
    )
    .bind(id)
    .bind(m.date)
    .bind(Json(m.content))
    .bind(m.author_id)
    .bind(m.person_id)
    .bind(m.template_id)
    .bind(now)
    .bind(manager)
    .fetch_optional(conn)
    .await
}

/// Updates the author's own meeting: `date` and `content` only when given.
/// `None` when the meeting is missing or written by someone else.
pub async fn update_own(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
    date: Option<NaiveDateTime>,
    content: Option<&Value>,
) -> Result<Option<IdOnly>, sqlx::Error> {
    crate::db::sql::query_as(
        "UPDATE meetings SET date = COALESCE($3, date), content = COALESCE($4, content), updated_at = $5
         WHERE id = $1 AND author_id = $2 RETURNING id",
    )
    .bind(id)
    .bind(author_id)
    .bind(date)
    .bind(content.map(Json))
    .bind(time::now())
    .fetch_optional(conn)
    .await
}

/// Deletes the author's own meeting; `None` when missing or not theirs.
pub async fn delete_own(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
) -> Result<Option<IdOnly>, sqlx::Error> {
    crate::db::sql::query_as("DELETE FROM meetings WHERE id = $1 AND author_id = $2 RETURNING id")
        .bind(id)
        .bind(author_id)
        .fetch_optional(conn)
        .await
}

/// `TemplateSummary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSummary {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub author_id: String,
    #[serde(with = "time")]
    #[ts(type = "string")]
    pub updated_at: NaiveDateTime,
}

/// `{id, name, description, content, authorId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemplateDetail {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[sqlx(json)]
    #[ts(type = "JsonValue")]
    pub content: Value,
    pub author_id: String,
}

/// Every template, most recently updated first.
pub async fn list_templates(conn: &mut PgConnection) -> Result<Vec<TemplateSummary>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, name, description, author_id, updated_at FROM meeting_templates
         ORDER BY updated_at DESC, id",
    )
    .fetch_all(conn)
    .await
}

pub async fn find_template(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<TemplateDetail>, sqlx::Error> {
    crate::db::sql::query_as(
        "SELECT id, name, description, content, author_id FROM meeting_templates WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert_template(
    conn: &mut PgConnection,
    id: &str,
    name: &str,
    description: Option<&str>,
    content: &Value,
    author_id: &str,
) -> Result<IdOnly, sqlx::Error> {
    let now = time::now();
    crate::db::sql::query_as(
        "INSERT INTO meeting_templates (id, name, description, content, author_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(id)
    .bind(name)
    .bind(description)
    .bind(Json(content))
    .bind(author_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Updates the author's own template: name and content always, description
/// only when given. `None` when missing or not theirs.
pub async fn update_own_template(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
    name: &str,
    description: Option<&str>,
    content: &Value,
) -> Result<Option<IdOnly>, sqlx::Error> {
    crate::db::sql::query_as(
        "UPDATE meeting_templates
         SET name = $3, description = COALESCE($4, description), content = $5, updated_at = $6
         WHERE id = $1 AND author_id = $2 RETURNING id",
    )
    .bind(id)
    .bind(author_id)
    .bind(name)
    .bind(description)
    .bind(Json(content))
    .bind(time::now())
    .fetch_optional(conn)
    .await
}

/// Deletes the author's own template (meetings keep a NULL template).
pub async fn delete_own_template(
    conn: &mut PgConnection,
    id: &str,
    author_id: &str,
) -> Result<Option<IdOnly>, sqlx::Error> {
    crate::db::sql::query_as(
        "DELETE FROM meeting_templates WHERE id = $1 AND author_id = $2 RETURNING id",
    )
    .bind(id)
    .bind(author_id)
    .fetch_optional(conn)
    .await
}
