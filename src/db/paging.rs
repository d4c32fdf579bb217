//! Search pages (`project.list`, `person.list`): one page of JSON items and
//! the count of every match, in one statement, with a literal
//! case-insensitive substring search.

use serde::de::DeserializeOwned;
use sqlx::types::Json;
use sqlx::PgConnection;

/// `search` as an ILIKE pattern matching it literally anywhere (`%`, `_` and `\`
/// escaped, procedures.md §9 item 27).
pub fn contains_pattern(search: &str) -> String {
    let mut out = String::with_capacity(search.len() + 2);
    out.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// What a search page reads: rows of `table` (as `alias`) matching `filter`
/// (SQL over `alias` with the pattern as `$1`), ordered by `keys` (columns of
/// `table`, all ascending or all descending), each shown as `item` (a JSON
/// expression over `alias`).
pub(crate) struct SearchPage<'a> {
    pub table: &'a str,
    pub alias: &'a str,
    pub filter: &'a str,
    pub item: &'a str,
    pub keys: &'a [&'a str],
    pub descending: bool,
}

impl SearchPage<'_> {
    fn sql(&self) -> String {
        let Self {
            table,
            alias: a,
            filter,
            item,
            keys,
            descending,
        } = self;
        let dir = if *descending { " DESC" } else { "" };
        let join = |qualify: bool, dir: &str| {
            keys.iter()
                .map(|k| {
                    let q = if qualify {
                        format!("{a}.")
                    } else {
                        String::new()
                    };
                    format!("{q}{k}{dir}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (outer, columns, inner) = (join(false, dir), join(true, ""), join(true, dir));
        format!(
            r#"WITH matched AS (
                   SELECT {a}.* FROM {table} {a} WHERE $1::text IS NULL OR ({filter}))
               SELECT (SELECT count(*) FROM matched),
                      COALESCE((SELECT json_agg(item ORDER BY {outer}) FROM (
                          SELECT {item} AS item, {columns} FROM matched {a}
                          ORDER BY {inner} OFFSET $2 LIMIT $3) page), '[]'::json)"#
        )
    }

    /// The page of `limit` items after `offset` (as a JSON array read into
    /// `T`) and the count of every match; `search` `None` or `""` matches
    /// every row.
    pub async fn fetch<T: DeserializeOwned + Send + Unpin + 'static>(
        &self,
        conn: &mut PgConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(T, i64), sqlx::Error> {
        let sql = self.sql();
        let pattern = search.filter(|s| !s.is_empty()).map(contains_pattern);
        let (total, Json(items)): (i64, Json<T>) = super::sql::query_as(&sql)
            .bind(pattern)
            .bind(offset)
            .bind(limit)
            .fetch_one(conn)
            .await?;
        Ok((items, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_wildcards_are_escaped() {
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
        assert_eq!(contains_pattern("ann"), "%ann%");
    }
}
