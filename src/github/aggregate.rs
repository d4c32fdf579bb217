//! `aggregateStats` of the original, number for number: per team member, all-time
//! and year-to-date commits, pull requests opened and merged, reviews (the first per
//! reviewer per PR), additions/deletions, weekly averages against the last eight
//! weeks, and the ±20 % trends (procedures.md §6.1).
//!
//! The quirks are kept on purpose, because the numbers must equal the original's:
//! merged PRs count in the year they were *created*; YTD commits only include weeks
//! starting on or after January 1st; review averages are over *active* weeks; login
//! matching is case-sensitive; self-reviews count. The one input that differs is
//! [`ytd_start`]: the original used the server's local time zone, which on Vercel
//! is UTC, so the port fixes it at UTC.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::Serialize;

use super::model::{ContributorCommits, PrFact};

/// Weeks compared with the overall average.
pub const RECENT_WEEKS: usize = 8;

/// Direction of a weekly rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Up,
    Down,
    Stable,
}

impl Trend {
    /// `up` when `recent ≥ 1.2·avg`, `down` when `recent ≤ 0.8·avg`; with no
    /// average, `up` on any recent activity.
    pub fn of(avg: f64, recent: f64) -> Trend {
        if avg == 0.0 {
            return if recent > 0.0 {
                Trend::Up
            } else {
                Trend::Stable
            };
        }
        if recent >= avg * 1.2 {
            Trend::Up
        } else if recent <= avg * 0.8 {
            Trend::Down
        } else {
            Trend::Stable
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Up => "up",
            Trend::Down => "down",
            Trend::Stable => "stable",
        }
    }
}

/// One contributor's numbers for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContributorAggregated {
    pub github_username: String,
    pub commits: i64,
    pub prs_opened: i64,
    pub prs_merged: i64,
    pub reviews_done: i64,
    pub additions: i64,
    pub deletions: i64,
    pub avg_weekly_commits: f64,
    pub recent_weekly_commits: f64,
    pub trend: Trend,
    pub avg_weekly_reviews: f64,
    pub recent_weekly_reviews: f64,
    pub review_trend: Trend,
}

impl ContributorAggregated {
    fn new(username: &str) -> Self {
        Self {
            github_username: username.to_owned(),
            commits: 0,
            prs_opened: 0,
            prs_merged: 0,
            reviews_done: 0,
            additions: 0,
            deletions: 0,
            avg_weekly_commits: 0.0,
            recent_weekly_commits: 0.0,
            trend: Trend::Stable,
            avg_weekly_reviews: 0.0,
            recent_weekly_reviews: 0.0,
            review_trend: Trend::Stable,
        }
    }
}

/// Both periods, each in first-seen order: commit contributors, then PR authors,
/// then reviewers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Aggregated {
    pub all_time: Vec<ContributorAggregated>,
    pub ytd: Vec<ContributorAggregated>,
}

/// January 1st, 00:00 UTC, of the year `now` falls in (UTC).
pub fn ytd_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), 1, 1, 0, 0, 0)
        .single()
        .expect("January 1st midnight exists in UTC")
}

/// Epoch milliseconds of the Sunday 00:00:00.000 UTC on or before `at`.
pub fn week_of(at: DateTime<Utc>) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    let day = at.timestamp_millis().div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday (day 4 counting from Sunday = 0).
    let weekday = (day + 4).rem_euclid(7);
    (day - weekday) * DAY_MS
}

/// A map that remembers insertion order, like a JavaScript `Map`.
#[derive(Default)]
struct Ledger {
    index: HashMap<String, usize>,
    entries: Vec<ContributorAggregated>,
    /// Review counts per week (epoch ms), per entry.
    review_weeks: HashMap<usize, BTreeMap<i64, i64>>,
}

impl Ledger {
    fn entry(&mut self, username: &str) -> usize {
        if let Some(&i) = self.index.get(username) {
            return i;
        }
        self.entries.push(ContributorAggregated::new(username));
        self.index
            .insert(username.to_owned(), self.entries.len() - 1);
        self.entries.len() - 1
    }

    fn get(&mut self, username: &str) -> &mut ContributorAggregated {
        let i = self.entry(username);
        &mut self.entries[i]
    }

    fn count_review(&mut self, username: &str, week: i64) {
        let i = self.entry(username);
        self.entries[i].reviews_done += 1;
        *self
            .review_weeks
            .entry(i)
            .or_default()
            .entry(week)
            .or_default() += 1;
    }

    /// Review averages over the weeks with at least one review, and the mean of
    /// the last [`RECENT_WEEKS`] of those.
    fn finish(mut self) -> Vec<ContributorAggregated> {
        for (i, weeks) in self.review_weeks {
            if weeks.is_empty() {
                continue;
            }
            let counts: Vec<i64> = weeks.into_values().collect();
            let entry = &mut self.entries[i];
            entry.avg_weekly_reviews = counts.iter().sum::<i64>() as f64 / counts.len() as f64;
            let recent = &counts[counts.len().saturating_sub(RECENT_WEEKS)..];
            entry.recent_weekly_reviews = recent.iter().sum::<i64>() as f64 / recent.len() as f64;
            entry.review_trend = Trend::of(entry.avg_weekly_reviews, entry.recent_weekly_reviews);
        }
        self.entries
    }
}

/// Mean commits of the last [`RECENT_WEEKS`] entries (`weeks` non-empty).
fn recent_weekly_commits(weeks: &[&super::model::WeekCommits]) -> f64 {
    let recent = &weeks[weeks.len().saturating_sub(RECENT_WEEKS)..];
    recent.iter().map(|w| w.commits).sum::<i64>() as f64 / recent.len() as f64
}

/// The original's `aggregateStats(commits, prs, teamUsernames)`, with the start of
/// the year passed in. `prs` in the original's order: newest created first.
pub fn aggregate(
    commits: &[ContributorCommits],
    prs: &[PrFact],
    team: &HashSet<String>,
    ytd_start: DateTime<Utc>,
) -> Aggregated {
    let ytd_start_ms = ytd_start.timestamp_millis();
    let mut all_time = Ledger::default();
    let mut ytd = Ledger::default();

    for c in commits.iter().filter(|c| team.contains(&c.username)) {
        let entry = all_time.get(&c.username);
        entry.commits = c.total_commits;
        entry.additions = c.additions;
        entry.deletions = c.deletions;
        if !c.weekly_data.is_empty() {
            let weeks: Vec<_> = c.weekly_data.iter().collect();
            entry.avg_weekly_commits = c.total_commits as f64 / weeks.len() as f64;
            entry.recent_weekly_commits = recent_weekly_commits(&weeks);
            entry.trend = Trend::of(entry.avg_weekly_commits, entry.recent_weekly_commits);
        }

        // The YTD entry exists even without any activity this year.
        let entry = ytd.get(&c.username);
        let ytd_weeks: Vec<_> = c
            .weekly_data
            .iter()
            .filter(|w| w.week.saturating_mul(1000) >= ytd_start_ms)
            .collect();
        for w in &ytd_weeks {
            entry.commits += w.commits;
            entry.additions += w.additions;
            entry.deletions += w.deletions;
        }
        if !ytd_weeks.is_empty() {
            entry.avg_weekly_commits = entry.commits as f64 / ytd_weeks.len() as f64;
            entry.recent_weekly_commits = recent_weekly_commits(&ytd_weeks);
            entry.trend = Trend::of(entry.avg_weekly_commits, entry.recent_weekly_commits);
        }
    }

    for pr in prs {
        let Some(author) = pr.author.as_deref() else {
            continue;
        };
        if team.contains(author) {
            let entry = all_time.get(author);
            entry.prs_opened += 1;
            entry.prs_merged += i64::from(pr.merged);
            if pr.created_at.timestamp_millis() >= ytd_start_ms {
                let entry = ytd.get(author);
                entry.prs_opened += 1;
                entry.prs_merged += i64::from(pr.merged);
            }
        }

        let mut seen: HashSet<&str> = HashSet::new();
        for review in &pr.reviews {
            if !team.contains(&review.login) || !seen.insert(&review.login) {
                continue;
            }
            let week = week_of(review.created_at);
            all_time.count_review(&review.login, week);
            if review.created_at.timestamp_millis() >= ytd_start_ms {
                ytd.count_review(&review.login, week);
            }
        }
    }

    Aggregated {
        all_time: all_time.finish(),
        ytd: ytd.finish(),
    }
}

#[cfg(test)]
mod tests {
    //! A fixture computed by hand (the comments show the arithmetic).
    use super::*;
    use crate::github::model::{ReviewFact, WeekCommits};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sunday(date: &str) -> i64 {
        at(&format!("{date}T00:00:00Z")).timestamp()
    }

    fn contributor(name: &str, weeks: &[(&str, i64)]) -> ContributorCommits {
        let weekly_data: Vec<WeekCommits> = weeks
            .iter()
            .map(|&(date, c)| WeekCommits {
                week: sunday(date),
                additions: 10 * c,
                deletions: c,
                commits: c,
            })
            .collect();
        ContributorCommits {
            username: name.into(),
            total_commits: weekly_data.iter().map(|w| w.commits).sum(),
            additions: weekly_data.iter().map(|w| w.additions).sum(),
            deletions: weekly_data.iter().map(|w| w.deletions).sum(),
            weekly_data,
        }
    }

    fn pr(
        number: i64,
        author: Option<&str>,
        merged: bool,
        created: &str,
        reviews: &[(&str, &str)],
    ) -> PrFact {
        PrFact {
            number,
            author: author.map(str::to_owned),
            state: if merged { "MERGED" } else { "OPEN" }.into(),
            merged,
            merged_at: None,
            created_at: at(created),
            updated_at: at(created),
            reviews: reviews
                .iter()
                .map(|&(login, when)| ReviewFact {
                    login: login.into(),
                    created_at: at(when),
                })
                .collect(),
        }
    }

    fn team(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn find<'a>(rows: &'a [ContributorAggregated], name: &str) -> &'a ContributorAggregated {
        rows.iter().find(|r| r.github_username == name).unwrap()
    }

    const YTD: &str = "2025-01-01T00:00:00Z";

    /// alice: 10 weeks from 2024-11-03 to 2025-01-05, commits 0,0,2,2,4,4,6,6,8,8 (40).
    /// bob: 2024-12-29 (the week holding Jan 1st) 3 commits, 2025-01-05 none.
    /// dave: a contributor row without weeks. mallory is not on the team.
    fn fixture() -> Aggregated {
        let alice_weeks = [
            ("2024-11-03", 0),
            ("2024-11-10", 0),
            ("2024-11-17", 2),
            ("2024-11-24", 2),
            ("2024-12-01", 4),
            ("2024-12-08", 4),
            ("2024-12-15", 6),
            ("2024-12-22", 6),
            ("2024-12-29", 8),
            ("2025-01-05", 8),
        ];
        let commits = vec![
            contributor("alice", &alice_weeks),
            contributor("mallory", &[("2025-01-05", 50)]),
            contributor("bob", &[("2024-12-29", 3), ("2025-01-05", 0)]),
            contributor("dave", &[]),
        ];
        let prs = vec![
            pr(
                1,
                Some("alice"),
                true,
                "2025-01-10T09:00:00Z",
                &[
                    ("bob", "2025-01-11T10:00:00Z"),
                    ("bob", "2025-01-12T10:00:00Z"), // second review by bob: ignored
                    ("carol", "2025-01-11T11:00:00Z"),
                    ("mallory", "2025-01-11T12:00:00Z"), // not on the team
                    ("alice", "2025-01-12T00:00:00Z"),   // self-review counts
                ],
            ),
            pr(
                5,
                Some("mallory"),
                false,
                "2025-01-03T09:00:00Z",
                &[("carol", "2025-01-04T09:00:00Z")],
            ),
            pr(
                2,
                Some("bob"),
                false,
                "2024-12-20T09:00:00Z",
                &[
                    ("alice", "2024-12-21T09:00:00Z"),
                    ("alice", "2025-01-02T09:00:00Z"), // dup, although this year
                ],
            ),
            pr(
                4,
                None, // ghost author: the PR and its reviews are skipped
                true,
                "2024-08-01T09:00:00Z",
                &[("bob", "2024-08-02T09:00:00Z")],
            ),
            pr(
                3,
                Some("carol"),
                true,
                "2024-06-01T09:00:00Z",
                &[("bob", "2024-06-02T09:00:00Z")],
            ),
        ];
        aggregate(
            &commits,
            &prs,
            &team(&["alice", "bob", "carol", "dave"]),
            at(YTD),
        )
    }

    #[test]
    fn entries_appear_in_first_seen_order_and_only_for_the_team() {
        let a = fixture();
        let names = |rows: &[ContributorAggregated]| {
            rows.iter()
                .map(|r| r.github_username.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a.all_time), ["alice", "bob", "dave", "carol"]);
        assert_eq!(names(&a.ytd), ["alice", "bob", "dave", "carol"]);
    }

    #[test]
    fn all_time_commit_numbers_and_trend() {
        let a = fixture();
        let alice = find(&a.all_time, "alice");
        assert_eq!(
            (alice.commits, alice.additions, alice.deletions),
            (40, 400, 40)
        );
        // 40 / 10 weeks = 4; last 8 weeks: (2+2+4+4+6+6+8+8) / 8 = 5; 5 ≥ 4.8 → up.
        assert_eq!(alice.avg_weekly_commits, 4.0);
        assert_eq!(alice.recent_weekly_commits, 5.0);
        assert_eq!(alice.trend, Trend::Up);
        let bob = find(&a.all_time, "bob");
        // 3 / 2 weeks = 1.5 both ways → stable.
        assert_eq!((bob.commits, bob.avg_weekly_commits), (3, 1.5));
        assert_eq!(bob.recent_weekly_commits, 1.5);
        assert_eq!(bob.trend, Trend::Stable);
    }

    #[test]
    fn ytd_commits_exclude_the_week_that_holds_january_first() {
        let a = fixture();
        let alice = find(&a.ytd, "alice");
        // Only the week of 2025-01-05 (8 commits); 2024-12-29 starts before Jan 1st.
        assert_eq!(
            (alice.commits, alice.additions, alice.deletions),
            (8, 80, 8)
        );
        // avg 8, recent 8: 8 < 9.6 and 8 > 6.4 → stable.
        assert_eq!(
            (alice.avg_weekly_commits, alice.recent_weekly_commits),
            (8.0, 8.0)
        );
        assert_eq!(alice.trend, Trend::Stable);
        let bob = find(&a.ytd, "bob");
        // bob's 3 commits are in the Dec 29 week: zero this year, one (empty) YTD week.
        assert_eq!((bob.commits, bob.additions), (0, 0));
        assert_eq!((bob.avg_weekly_commits, bob.trend), (0.0, Trend::Stable));
    }

    #[test]
    fn a_team_contributor_without_weeks_still_gets_both_entries() {
        let a = fixture();
        for rows in [&a.all_time, &a.ytd] {
            let dave = find(rows, "dave");
            assert_eq!(*dave, ContributorAggregated::new("dave"));
        }
    }

    #[test]
    fn pull_requests_count_by_creation_date() {
        let a = fixture();
        let row = |rows: &[ContributorAggregated], n: &str| {
            let r = find(rows, n);
            (r.prs_opened, r.prs_merged)
        };
        assert_eq!(row(&a.all_time, "alice"), (1, 1));
        assert_eq!(row(&a.all_time, "bob"), (1, 0));
        assert_eq!(row(&a.all_time, "carol"), (1, 1));
        assert_eq!(row(&a.ytd, "alice"), (1, 1));
        assert_eq!(row(&a.ytd, "bob"), (0, 0)); // created 2024-12-20
        assert_eq!(row(&a.ytd, "carol"), (0, 0)); // created 2024-06-01
    }

    #[test]
    fn reviews_count_once_per_reviewer_per_pull_request() {
        let a = fixture();
        let reviews = |rows: &[ContributorAggregated], n: &str| find(rows, n).reviews_done;
        // alice: PR1 (self) + PR2 (first of two); bob: PR1 (first of two) + PR3 (PR4 is
        // a ghost's); carol: PR1 + PR5 (a non-member's PR still counts for the reviewer).
        assert_eq!(reviews(&a.all_time, "alice"), 2);
        assert_eq!(reviews(&a.all_time, "bob"), 2);
        assert_eq!(reviews(&a.all_time, "carol"), 2);
        // This year: alice's PR2 review counted is the 2024 one, so only PR1 remains.
        assert_eq!(reviews(&a.ytd, "alice"), 1);
        assert_eq!(reviews(&a.ytd, "bob"), 1);
        assert_eq!(reviews(&a.ytd, "carol"), 2);
        assert!(a.all_time.iter().all(|r| r.github_username != "mallory"));
    }

    #[test]
    fn review_averages_use_active_weeks_only() {
        let a = fixture();
        // carol: one review in the week of 2024-12-29 and one in 2025-01-05 → 2 / 2.
        let carol = find(&a.ytd, "carol");
        assert_eq!(
            (carol.avg_weekly_reviews, carol.recent_weekly_reviews),
            (1.0, 1.0)
        );
        assert_eq!(carol.review_trend, Trend::Stable);
        let dave = find(&a.all_time, "dave");
        assert_eq!(
            (dave.avg_weekly_reviews, dave.review_trend),
            (0.0, Trend::Stable)
        );
    }

    #[test]
    fn review_trend_compares_the_last_eight_active_weeks() {
        // erin reviews 14 PRs over 10 active weeks: 3 in each of the first two weeks,
        // then one a week. avg = 14 / 10 = 1.4; recent = 8 / 8 = 1.0 ≤ 1.12 → down.
        let mut prs = Vec::new();
        let mut number = 0;
        for week in 0..10 {
            let per_week = if week < 2 { 3 } else { 1 };
            for _ in 0..per_week {
                number += 1;
                let day = at("2024-03-04T12:00:00Z") + chrono::Duration::weeks(week);
                prs.push(pr(
                    number,
                    Some("zed"),
                    false,
                    "2024-03-01T00:00:00Z",
                    &[("erin", &day.to_rfc3339())],
                ));
            }
        }
        let a = aggregate(&[], &prs, &team(&["erin"]), at(YTD));
        let erin = find(&a.all_time, "erin");
        assert_eq!(erin.reviews_done, 14);
        assert_eq!(erin.avg_weekly_reviews, 1.4);
        assert_eq!(erin.recent_weekly_reviews, 1.0);
        assert_eq!(erin.review_trend, Trend::Down);
        assert!(a.ytd.is_empty());
    }

    #[test]
    fn a_merged_pr_created_last_year_is_not_a_ytd_merge() {
        let mut late = pr(9, Some("alice"), true, "2024-12-31T23:00:00Z", &[]);
        late.merged_at = Some(at("2025-01-02T00:00:00Z"));
        let a = aggregate(&[], &[late], &team(&["alice"]), at(YTD));
        assert_eq!(find(&a.all_time, "alice").prs_merged, 1);
        assert!(a.ytd.is_empty());
    }

    #[test]
    fn login_matching_is_case_sensitive() {
        let a = aggregate(
            &[contributor("Alice", &[("2025-01-05", 1)])],
            &[],
            &team(&["alice"]),
            at(YTD),
        );
        assert!(a.all_time.is_empty());
    }

    #[test]
    fn trend_thresholds_are_plus_minus_twenty_percent() {
        assert_eq!(Trend::of(10.0, 12.0), Trend::Up);
        assert_eq!(Trend::of(10.0, 11.9), Trend::Stable);
        assert_eq!(Trend::of(10.0, 8.1), Trend::Stable);
        assert_eq!(Trend::of(10.0, 8.0), Trend::Down);
        assert_eq!(Trend::of(0.0, 0.0), Trend::Stable);
        assert_eq!(Trend::of(0.0, 0.1), Trend::Up);
    }

    #[test]
    fn weeks_start_on_sunday_utc() {
        let sunday_ms = sunday("2025-01-05") * 1000;
        assert_eq!(week_of(at("2025-01-11T23:59:59Z")), sunday_ms); // Saturday
        assert_eq!(week_of(at("2025-01-05T00:00:00Z")), sunday_ms);
        assert_eq!(
            week_of(at("2025-01-04T23:59:59Z")),
            sunday("2024-12-29") * 1000
        );
        assert_eq!(
            week_of(at("1969-12-31T12:00:00Z")),
            sunday("1969-12-28") * 1000
        );
    }

    #[test]
    fn ytd_starts_on_january_first_utc() {
        assert_eq!(ytd_start(at("2025-07-04T12:00:00Z")), at(YTD));
        assert_eq!(ytd_start(at("2025-01-01T00:00:00Z")), at(YTD));
    }
}
