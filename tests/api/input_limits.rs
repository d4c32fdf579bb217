//! Input Postgres cannot store is a BAD_REQUEST with a field error, never a
//! 500 (issue 10 §2), checked as a table: for every registered procedure and
//! every string, id, date, integer and document field of its input, each bad
//! value of the field's kind answers 400 with `fieldErrors[field]`, or, for an
//! id in a query, exactly what an unknown id answers; and nothing is written.
//!
//! To cover a new procedure, append a row to [`table`] naming its fields and
//! their kinds; [`every_registered_procedure_is_in_the_table`] lists the
//! procedures still missing.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, USER};
use enghub::trpc::input::{MAX_ID_LEN, MAX_STRING_LEN, MAX_TEXT_LEN, MAX_URL_LEN};
use enghub::trpc::Kind;

/// What a field holds, and so which bad values it is tried with.
#[derive(Clone, Copy, Debug)]
enum Field {
    /// An id (`Input::id`, `opt_id`, `opt_id_or_empty`).
    Id,
    /// An array of ids (`Input::id_list`).
    IdList,
    /// A string of at most this many characters.
    Str(usize),
    /// A date (`Input::date`, `opt_date`).
    Date,
    /// An integer without explicit bounds, or bounded inside `int4`.
    Int,
    /// A JSON document (`Input::document`, `any`).
    Document,
}

/// One procedure: its valid base input and its checked fields.
struct Row {
    procedure: &'static str,
    base: Value,
    fields: Vec<(&'static str, Field)>,
}

/// Ids of real rows, so base inputs are valid and only the bad field fails.
struct Fixture {
    department: String,
    title: String,
    person: String,
    report: String,
    project: String,
    template: String,
    meeting: String,
    comment: String,
    team: String,
    link: String,
    assessment: String,
    milestone: String,
    goal: String,
    key_result: String,
    member: String,
    /// A draft arrangement of `project` and one of its teams.
    arrangement: String,
    arrangement_team: String,
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// The bad values tried for a field of `kind`, each with a label.
fn bad_values(kind: Field) -> Vec<(&'static str, Value)> {
    match kind {
        Field::Id => vec![
            ("NUL", json!("ab\u{0}cd")),
            ("oversize", json!(long(MAX_ID_LEN + 1))),
        ],
        Field::IdList => vec![
            ("NUL element", json!(["ab\u{0}cd"])),
            ("oversize element", json!([long(MAX_ID_LEN + 1)])),
        ],
        Field::Str(max) => vec![
            ("NUL", json!("a\u{0}b")),
            ("oversize", json!(long(max + 1))),
        ],
        Field::Date => vec![
            ("before 4713 BC", json!("-004714-01-01T00:00:00.000Z")),
            ("NUL", json!("2026-03-16\u{0}")),
        ],
        Field::Int => vec![
            ("over int4", json!(2_147_483_648_i64)),
            ("under int4", json!(-2_147_483_649_i64)),
        ],
        Field::Document => vec![
            ("NUL in a string", json!({"type": "doc", "text": "a\u{0}b"})),
            ("NUL in a key", json!({"a\u{0}": 1})),
            (
                "NUL deep inside",
                json!({"content": [{"content": [{"text": "\u{0}"}]}]}),
            ),
        ],
    }
}

fn url(n: usize) -> String {
    format!("https://x.io/{}", long(n - "https://x.io/".len()))
}

fn person_input(f: &Fixture, email: &str) -> Value {
    json!({
        "firstName": "Ada", "lastName": "Lovelace", "callsign": "ada", "email": email,
        "githubUsername": "ada", "gitlabUsername": "ada", "imageUrl": "https://x.io/a.png",
        "managerId": f.person, "departmentId": f.department, "titleId": f.title,
    })
}

const PERSON_FIELDS: [(&str, Field); 10] = [
    ("firstName", Field::Str(MAX_STRING_LEN)),
    ("lastName", Field::Str(MAX_STRING_LEN)),
    ("callsign", Field::Str(MAX_STRING_LEN)),
    ("email", Field::Str(MAX_STRING_LEN)),
    ("githubUsername", Field::Str(MAX_STRING_LEN)),
    ("gitlabUsername", Field::Str(MAX_STRING_LEN)),
    ("imageUrl", Field::Str(MAX_URL_LEN)),
    ("managerId", Field::Id),
    ("departmentId", Field::Id),
    ("titleId", Field::Id),
];

/// The eight notes documents of a health assessment.
const ASSESSMENT_NOTES: [&str; 8] = [
    "overallNotes",
    "growthNotes",
    "marginNotes",
    "longevityNotes",
    "clientSatisfactionNotes",
    "engineeringVibeNotes",
    "productVibeNotes",
    "designVibeNotes",
];

/// The item fields of `milestone`/`quarterlyGoal` create and update.
const ROADMAP_ITEM_FIELDS: [(&str, Field); 5] = [
    ("title", Field::Str(MAX_STRING_LEN)),
    ("description", Field::Str(MAX_TEXT_LEN)),
    ("targetDate", Field::Date),
    ("parentId", Field::Id),
    ("sortOrder", Field::Int),
];

fn with(
    base: &[(&'static str, Field)],
    more: &[(&'static str, Field)],
) -> Vec<(&'static str, Field)> {
    base.iter().chain(more).copied().collect()
}

/// Every procedure with its checked fields (an empty list: no input, or none
/// of these kinds). Append new procedures here.
fn table(f: &Fixture) -> Vec<Row> {
    use Field::*;
    let row = |procedure, base, fields: &[(&'static str, Field)]| Row {
        procedure,
        base,
        fields: fields.to_vec(),
    };
    let name = Str(MAX_STRING_LEN);
    let text = Str(MAX_TEXT_LEN);
    let comment = Str(5000);
    let url_field = Str(MAX_URL_LEN);
    let mut person_update = PERSON_FIELDS.to_vec();
    person_update.push(("id", Id));
    let project_fields = [
        ("name", name),
        ("description", text),
        ("githubUrl", url_field),
        ("gitlabUrl", url_field),
        ("imageUrl", url_field),
    ];
    let project_input = json!({"name": "Gemini", "description": "d",
        "githubUrl": "https://github.com/a/b", "gitlabUrl": "https://gitlab.com/a/b",
        "imageUrl": "https://x.io/p.png"});
    let notes: Vec<(&'static str, Field)> =
        ASSESSMENT_NOTES.iter().map(|k| (*k, Document)).collect();
    let team_fields = [
        ("name", name),
        ("description", text),
        ("imageUrl", url_field),
    ];
    let item = |extra: Value| {
        let mut v = json!({"title": "Launch", "description": "d", "targetDate": "2026-06-01",
            "status": "IN_PROGRESS", "sortOrder": 2});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let goal_fields = with(&ROADMAP_ITEM_FIELDS, &[("quarter", text)]);
    let member_input = |extra: Value| {
        let mut v = json!({"firstName": "Grace", "lastName": "Hopper", "callsign": "amazing",
            "email": "grace@example.com", "githubUsername": "grace", "gitlabUsername": "grace",
            "imageUrl": "https://x.io/g.png", "departmentId": f.department, "titleId": f.title,
            "teamIds": [f.team]});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let member_fields = with(&PERSON_FIELDS, &[("teamIds", IdList)]);
    let mut rows = vec![
        row("health.ping", json!(null), &[]),
        row("department.getAll", json!(null), &[]),
        row(
            "department.create",
            json!({"name": "Research", "color": "#123456"}),
            &[("name", name), ("color", text)],
        ),
        row(
            "department.update",
            json!({"id": f.department, "name": "Eng 2", "color": "#000"}),
            &[("id", Id), ("name", name), ("color", text)],
        ),
        row(
            "department.delete",
            json!({"id": f.department}),
            &[("id", Id)],
        ),
        row(
            "department.merge",
            json!({"keepId": f.department, "mergeIds": []}),
            &[("keepId", Id), ("mergeIds", IdList)],
        ),
        row("title.getAll", json!(null), &[]),
        row(
            "title.create",
            json!({"name": "Staff", "departmentId": f.department}),
            &[("name", name), ("departmentId", Id)],
        ),
        row(
            "title.update",
            json!({"id": f.title, "name": "Staff 2", "departmentId": f.department}),
            &[("id", Id), ("name", name), ("departmentId", Id)],
        ),
        row("title.delete", json!({"id": f.title}), &[("id", Id)]),
        row(
            "title.merge",
            json!({"keepId": f.title, "mergeIds": []}),
            &[("keepId", Id), ("mergeIds", IdList)],
        ),
        row(
            "title.reorder",
            json!({"ids": [f.title]}),
            &[("ids", IdList)],
        ),
        row("person.getAll", json!(null), &[]),
        row("person.me", json!(null), &[]),
        row(
            "person.list",
            json!({"page": 1, "pageSize": 10, "search": "a"}),
            &[("page", Int), ("pageSize", Int), ("search", text)],
        ),
        row("person.getById", json!({"id": f.person}), &[("id", Id)]),
        row(
            "person.create",
            person_input(f, "new@example.com"),
            &PERSON_FIELDS,
        ),
        row(
            "person.update",
            {
                let mut input = person_input(f, "report@example.com");
                input["id"] = json!(f.report);
                input
            },
            &person_update,
        ),
        row("person.delete", json!({"id": f.report}), &[("id", Id)]),
        row(
            "person.joinProject",
            json!({"personId": f.report, "projectId": f.project, "teamIds": [f.team]}),
            &[("personId", Id), ("projectId", Id), ("teamIds", IdList)],
        ),
        row(
            "person.moveToProject",
            json!({"personId": f.report, "fromProjectId": f.project, "toProjectId": f.project,
                   "teamIds": [f.team]}),
            &[
                ("personId", Id),
                ("fromProjectId", Id),
                ("toProjectId", Id),
                ("teamIds", IdList),
            ],
        ),
        row(
            "person.leaveProject",
            json!({"personId": f.report, "projectId": f.project}),
            &[("personId", Id), ("projectId", Id)],
        ),
        row(
            "person.claimAsMe",
            json!({"personId": f.report}),
            &[("personId", Id)],
        ),
        row("person.unclaimMe", json!(null), &[]),
        row(
            "managerChange.getByPersonId",
            json!({"personId": f.report}),
            &[("personId", Id)],
        ),
        row(
            "managerChange.getRecent",
            json!({"limit": 5}),
            &[("limit", Int)],
        ),
        row(
            "managerChange.getByProjectId",
            json!({"projectId": f.project, "limit": 5}),
            &[("projectId", Id), ("limit", Int)],
        ),
        row(
            "githubStats.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", name)],
        ),
        row(
            "githubStats.getSyncStatus",
            json!({"projectId": f.project}),
            &[("projectId", name)],
        ),
        row(
            "githubStats.syncNow",
            json!({"projectId": f.project}),
            &[("projectId", name)],
        ),
        row("meeting.getMyMeetings", json!(null), &[]),
        row(
            "meeting.getByPersonId",
            json!({"personId": f.report}),
            &[("personId", Id)],
        ),
        row("meeting.getById", json!({"id": f.meeting}), &[("id", Id)]),
        row(
            "meeting.create",
            json!({"personId": f.report, "date": "2026-03-16", "content": {"a": 1},
                   "templateId": f.template}),
            &[
                ("personId", Id),
                ("date", Date),
                ("content", Document),
                ("templateId", Id),
            ],
        ),
        row(
            "meeting.update",
            json!({"id": f.meeting, "date": "2026-03-17", "content": {"b": 2}}),
            &[("id", Id), ("date", Date), ("content", Document)],
        ),
        row("meeting.delete", json!({"id": f.meeting}), &[("id", Id)]),
        row("meetingTemplate.getAll", json!(null), &[]),
        row(
            "meetingTemplate.getById",
            json!({"id": f.template}),
            &[("id", Id)],
        ),
        row(
            "meetingTemplate.create",
            json!({"name": "1:1", "description": "weekly", "content": {"a": 1}}),
            &[("name", name), ("description", text), ("content", Document)],
        ),
        row(
            "meetingTemplate.update",
            json!({"id": f.template, "name": "1:1 b", "description": "d", "content": {}}),
            &[
                ("id", Id),
                ("name", name),
                ("description", text),
                ("content", Document),
            ],
        ),
        row(
            "meetingTemplate.delete",
            json!({"id": f.template}),
            &[("id", Id)],
        ),
        row(
            "personComment.getByPersonId",
            json!({"personId": f.report}),
            &[("personId", Id)],
        ),
        row(
            "personComment.create",
            json!({"personId": f.report, "content": "hello"}),
            &[("personId", Id), ("content", comment)],
        ),
        row(
            "personComment.update",
            json!({"id": f.comment, "content": "hello again"}),
            &[("id", Id), ("content", comment)],
        ),
        row(
            "personComment.delete",
            json!({"id": f.comment}),
            &[("id", Id)],
        ),
    ];
    // Issue 8's routers.
    rows.extend([
        row("project.getAll", json!(null), &[]),
        row(
            "project.list",
            json!({"page": 1, "pageSize": 10, "search": "a"}),
            &[("page", Int), ("pageSize", Int), ("search", text)],
        ),
        row("project.getById", json!({"id": f.project}), &[("id", Id)]),
        row("project.create", project_input.clone(), &project_fields),
        row(
            "project.update",
            {
                let mut input = project_input.clone();
                input["id"] = json!(f.project);
                input
            },
            &with(&[("id", Id)], &project_fields),
        ),
        row("project.delete", json!({"id": f.project}), &[("id", Id)]),
        row(
            "projectLink.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row("projectLink.getById", json!({"id": f.link}), &[("id", Id)]),
        row(
            "projectLink.create",
            json!({"projectId": f.project, "label": "Docs", "url": "https://docs.io"}),
            &[("projectId", Id), ("label", name), ("url", url_field)],
        ),
        row(
            "projectLink.update",
            json!({"id": f.link, "label": "Docs 2", "url": "https://docs.io/2"}),
            &[("id", Id), ("label", name), ("url", url_field)],
        ),
        row("projectLink.delete", json!({"id": f.link}), &[("id", Id)]),
        row(
            "healthAssessment.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row(
            "healthAssessment.getById",
            json!({"id": f.assessment}),
            &[("id", Id)],
        ),
        row(
            "healthAssessment.create",
            json!({"projectId": f.project, "overallStatus": "GREEN", "overallNotes": {"t": 1},
                   "growthStatus": "RED"}),
            &with(&[("projectId", Id)], &notes),
        ),
        row(
            "healthAssessment.update",
            json!({"id": f.assessment, "overallStatus": "YELLOW"}),
            &with(&[("id", Id)], &notes),
        ),
        row(
            "healthAssessment.delete",
            json!({"id": f.assessment}),
            &[("id", Id)],
        ),
        row(
            "team.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row("team.getById", json!({"id": f.team}), &[("id", Id)]),
        row(
            "team.create",
            json!({"projectId": f.project, "name": "Gamma", "description": "d",
                   "imageUrl": "https://x.io/t.png"}),
            &with(&[("projectId", Id)], &team_fields),
        ),
        row(
            "team.update",
            json!({"id": f.team, "name": "Delta", "description": "", "imageUrl": ""}),
            &with(&[("id", Id)], &team_fields),
        ),
        row("team.delete", json!({"id": f.team}), &[("id", Id)]),
    ]);
    for (router, id, key, fields) in [
        (
            "milestone",
            &f.milestone,
            "milestoneId",
            ROADMAP_ITEM_FIELDS.to_vec(),
        ),
        ("quarterlyGoal", &f.goal, "quarterlyGoalId", goal_fields),
    ] {
        let path = |name: &str| -> &'static str { format!("{router}.{name}").leak() };
        rows.extend([
            row(
                path("getByProjectId"),
                json!({"projectId": f.project}),
                &[("projectId", Id)],
            ),
            row(path("getById"), json!({"id": id}), &[("id", Id)]),
            row(
                path("create"),
                item(json!({"projectId": f.project, "parentId": id, "quarter": "Q3"})),
                &with(&[("projectId", Id)], &fields),
            ),
            row(
                path("update"),
                item(json!({"id": id, "quarter": "Q4"})),
                &with(&[("id", Id)], &fields),
            ),
            row(path("delete"), json!({"id": id}), &[("id", Id)]),
            row(
                path("setAssignees"),
                json!({key: id, "personIds": [f.report]}),
                &[(key, Id), ("personIds", IdList)],
            ),
        ]);
    }
    rows.extend([
        row(
            "keyResult.create",
            json!({"title": "Users", "targetValue": 100, "currentValue": 5, "unit": "users",
                   "milestoneId": f.milestone}),
            &[
                ("title", name),
                ("unit", text),
                ("milestoneId", Id),
                ("quarterlyGoalId", Id),
            ],
        ),
        row(
            "keyResult.update",
            json!({"id": f.key_result, "title": "Users", "targetValue": 100, "currentValue": 7,
                   "unit": "users", "status": "IN_PROGRESS"}),
            &[("id", Id), ("title", name), ("unit", text)],
        ),
        row(
            "keyResult.delete",
            json!({"id": f.key_result}),
            &[("id", Id)],
        ),
        row(
            "teamMember.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row("teamMember.getById", json!({"id": f.member}), &[("id", Id)]),
        row(
            "teamMember.getOrgTree",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row(
            "teamMember.create",
            member_input(json!({"projectId": f.project})),
            &with(&[("projectId", Id)], &member_fields),
        ),
        row(
            "teamMember.update",
            member_input(json!({"id": f.member, "managerId": f.person})),
            &with(&[("id", Id)], &member_fields),
        ),
        row("teamMember.delete", json!({"id": f.member}), &[("id", Id)]),
    ]);
    let arrangement = json!({"id": f.arrangement});
    let arrangement_team = json!({"teamId": f.arrangement_team});
    let assignment = json!({"arrangementTeamId": f.arrangement_team, "teamMemberId": f.member});
    rows.extend([
        row(
            "arrangement.getByProjectId",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row("arrangement.getById", arrangement.clone(), &[("id", Id)]),
        row(
            "arrangement.create",
            json!({"projectId": f.project, "name": "Plan B"}),
            &[("projectId", Id), ("name", name)],
        ),
        row(
            "arrangement.update",
            json!({"id": f.arrangement, "name": "Plan C"}),
            &[("id", Id), ("name", name)],
        ),
        row("arrangement.delete", arrangement.clone(), &[("id", Id)]),
        row(
            "arrangement.clone",
            json!({"sourceArrangementId": f.arrangement, "name": "Copy"}),
            &[("sourceArrangementId", Id), ("name", name)],
        ),
        row(
            "arrangement.cloneFromLive",
            json!({"projectId": f.project, "name": "Live copy"}),
            &[("projectId", Id), ("name", name)],
        ),
        row(
            "arrangement.ensureActiveArrangement",
            json!({"projectId": f.project}),
            &[("projectId", Id)],
        ),
        row("arrangement.activate", arrangement, &[("id", Id)]),
        row(
            "arrangement.addTeam",
            json!({"arrangementId": f.arrangement, "name": "Platform"}),
            &[("arrangementId", Id), ("name", name)],
        ),
        row(
            "arrangement.updateTeam",
            json!({"teamId": f.arrangement_team, "name": "Renamed"}),
            &[("teamId", Id), ("name", name)],
        ),
        row(
            "arrangement.deleteTeam",
            arrangement_team,
            &[("teamId", Id)],
        ),
        row(
            "arrangement.reorderTeams",
            json!({"arrangementId": f.arrangement, "teamIds": [f.arrangement_team]}),
            &[("arrangementId", Id), ("teamIds", IdList)],
        ),
        row(
            "arrangement.assignMember",
            assignment.clone(),
            &[("arrangementTeamId", Id), ("teamMemberId", Id)],
        ),
        row(
            "arrangement.unassignMember",
            assignment,
            &[("arrangementTeamId", Id), ("teamMemberId", Id)],
        ),
        row(
            "arrangement.moveMember",
            json!({"teamMemberId": f.member, "fromTeamId": f.arrangement_team,
                   "toTeamId": f.arrangement_team}),
            &[("teamMemberId", Id), ("fromTeamId", Id), ("toTeamId", Id)],
        ),
    ]);
    rows
}

async fn fixture(app: &TestApp) -> Fixture {
    let exec = |sql: &'static str, binds: Vec<String>| {
        let db = app.db.clone();
        async move {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&db).await.unwrap();
        }
    };
    let id = enghub::db::new_id;
    let (department, title, project, template, meeting, comment) =
        (id(), id(), id(), id(), id(), id());
    exec(
        "INSERT INTO roles (id, name) VALUES ($1, 'Eng')",
        vec![department.clone()],
    )
    .await;
    exec(
        "INSERT INTO titles (id, name, department_id) VALUES ($1, 'Engineer', $2)",
        vec![title.clone(), department.clone()],
    )
    .await;
    let person = app.insert_person("Manager", None, Some(USER)).await;
    let report = app.insert_person("Report", Some(&person), None).await;
    exec(
        "INSERT INTO projects (id, name, updated_at) VALUES ($1, 'Apollo', now())",
        vec![project.clone()],
    )
    .await;
    exec(
        "INSERT INTO team_members (id, person_id, project_id) VALUES ($1, $2, $3)",
        vec![id(), report.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO meeting_templates (id, name, content, author_id, updated_at)
         VALUES ($1, 'Weekly', '{}', $2, now())",
        vec![template.clone(), USER.to_string()],
    )
    .await;
    exec(
        "INSERT INTO meetings (id, date, content, author_id, person_id, updated_at)
         VALUES ($1, now(), '{}', $2, $3, now())",
        vec![meeting.clone(), USER.to_string(), report.clone()],
    )
    .await;
    exec(
        "INSERT INTO person_comments (id, content, person_id, author_id, author_person_id, updated_at)
         VALUES ($1, 'note', $2, $3, $4, now())",
        vec![comment.clone(), report.clone(), USER.to_string(), person.clone()],
    )
    .await;
    let (team, link, assessment, milestone, goal, key_result) =
        (id(), id(), id(), id(), id(), id());
    exec(
        "INSERT INTO teams (id, name, project_id) VALUES ($1, 'Core', $2)",
        vec![team.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO project_links (id, label, url, project_id) VALUES ($1, 'Doc', 'https://doc.io', $2)",
        vec![link.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO health_assessments (id, project_id, author_id, overall_status, updated_at)
         VALUES ($1, $2, $3, 'GREEN', now())",
        vec![assessment.clone(), project.clone(), USER.to_string()],
    )
    .await;
    exec(
        "INSERT INTO milestones (id, title, status, sort_order, project_id, updated_at)
         VALUES ($1, 'Beta', 'NOT_STARTED', 0, $2, now())",
        vec![milestone.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO quarterly_goals (id, title, quarter, status, sort_order, project_id, updated_at)
         VALUES ($1, 'Grow', 'Q1', 'NOT_STARTED', 0, $2, now())",
        vec![goal.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO key_results (id, title, target_value, current_value, status, sort_order,
           milestone_id, updated_at) VALUES ($1, 'Users', 100, 0, 'NOT_STARTED', 0, $2, now())",
        vec![key_result.clone(), milestone.clone()],
    )
    .await;
    let (arrangement, arrangement_team) = (id(), id());
    exec(
        "INSERT INTO team_arrangements (id, name, project_id, updated_at)
         VALUES ($1, 'Draft', $2, now())",
        vec![arrangement.clone(), project.clone()],
    )
    .await;
    exec(
        "INSERT INTO arrangement_teams (id, name, arrangement_id) VALUES ($1, 'Squad', $2)",
        vec![arrangement_team.clone(), arrangement.clone()],
    )
    .await;
    // The report's membership of the project (made above).
    let (member,): (String,) = sqlx::query_as("SELECT id FROM team_members WHERE person_id = $1")
        .bind(&report)
        .fetch_one(&app.db)
        .await
        .unwrap();
    Fixture {
        department,
        title,
        person,
        report,
        project,
        template,
        meeting,
        comment,
        team,
        link,
        assessment,
        milestone,
        goal,
        key_result,
        member,
        arrangement,
        arrangement_team,
    }
}

/// A digest of every table's content.
async fn snapshot(app: &TestApp) -> Vec<(String, Option<String>)> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (table,) in tables {
        let (digest,): (Option<String>,) = sqlx::query_as(&format!(
            "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \"{table}\" t"
        ))
        .fetch_one(&app.db)
        .await
        .unwrap();
        out.push((table, digest));
    }
    out
}

async fn call(app: &TestApp, kind: Kind, path: &str, input: Value) -> (u16, Value) {
    match kind {
        Kind::Query => app.query(path, Some(input)).await,
        Kind::Mutation => app.mutate(path, input).await,
    }
}

/// Status, and data or error code: what "answers as for an unknown id" compares.
fn answer(status: u16, body: &Value) -> (u16, Value) {
    let outcome = match body.get("result") {
        Some(r) => r["data"].clone(),
        None => body["error"]["data"]["code"].clone(),
    };
    (status, outcome)
}

#[tokio::test]
async fn input_postgres_cannot_store_is_a_field_error_for_every_procedure() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let registry = enghub::procedures::registry();
    let before = snapshot(&app).await;
    let mut cases = 0;
    let mut failures = Vec::new();
    for row in table(&f) {
        let kind = registry
            .get(row.procedure)
            .unwrap_or_else(|| panic!("{} is not registered", row.procedure))
            .kind;
        for (field, field_kind) in &row.fields {
            for (label, bad) in bad_values(*field_kind) {
                cases += 1;
                let mut input = row.base.clone();
                input[*field] = bad;
                let (status, body) = call(&app, kind, row.procedure, input).await;
                let is_lookup = kind == Kind::Query && matches!(field_kind, Field::Id);
                let ok = if is_lookup {
                    let mut unknown = row.base.clone();
                    unknown[*field] = json!("no-such-id");
                    let (s, b) = call(&app, kind, row.procedure, unknown).await;
                    answer(status, &body) == answer(s, &b)
                } else {
                    status == 400
                        && body["error"]["data"]["zodError"]["fieldErrors"][*field]
                            .as_array()
                            .is_some_and(|errors| !errors.is_empty())
                };
                if !ok {
                    failures.push(format!(
                        "{} {field} {label}: {status} {body}",
                        row.procedure
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(snapshot(&app).await, before, "nothing is written");
    eprintln!("input table: {cases} (procedure, field, bad value) cases");
    assert!(cases >= 440, "the table covers {cases} cases");
}

#[tokio::test]
async fn every_registered_procedure_is_in_the_table() {
    let ids = || "x".to_string();
    let f = Fixture {
        department: ids(),
        title: ids(),
        person: ids(),
        report: ids(),
        project: ids(),
        template: ids(),
        meeting: ids(),
        comment: ids(),
        team: ids(),
        link: ids(),
        assessment: ids(),
        milestone: ids(),
        goal: ids(),
        key_result: ids(),
        member: ids(),
        arrangement: ids(),
        arrangement_team: ids(),
    };
    let listed: Vec<&str> = table(&f).iter().map(|r| r.procedure).collect();
    let missing: Vec<&str> = enghub::procedures::registry()
        .paths()
        .into_iter()
        .filter(|p| !listed.contains(p))
        .collect();
    assert!(
        missing.is_empty(),
        "append rows for these procedures to input_limits::table: {missing:?}"
    );
}

#[tokio::test]
async fn values_at_the_caps_are_stored() {
    let app = spawn_app().await;
    let name = "é".repeat(MAX_STRING_LEN);
    let (status, body) = app.mutate("department.create", json!({"name": name})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .mutate(
            "meetingTemplate.create",
            json!({"name": "t", "description": "😀".repeat(MAX_TEXT_LEN / 2)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .mutate(
            "person.create",
            json!({"firstName": "A", "lastName": "B", "email": "a@b.co",
                   "imageUrl": url(MAX_URL_LEN)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_impossible_id_in_a_read_answers_as_unknown_not_as_an_error() {
    let app = spawn_app().await;
    let (status, body) = app
        .query("person.getById", Some(json!({"id": "a\u{0}b"})))
        .await;
    assert_eq!((status, &body["result"]["data"]), (200, &Value::Null));
    let (status, body) = app
        .query(
            "meetingTemplate.getById",
            Some(json!({"id": long(MAX_ID_LEN + 1)})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["message"], "Template not found.");
    let (status, body) = app
        .query(
            "personComment.getByPersonId",
            Some(json!({"personId": "\u{0}"})),
        )
        .await;
    assert_eq!((status, &body["result"]["data"]), (200, &json!([])));
}

#[tokio::test]
async fn the_earliest_postgres_date_is_accepted_and_one_millisecond_earlier_is_not() {
    let app = spawn_app().await;
    let manager = app.insert_person("Manager", None, Some(USER)).await;
    let report = app.insert_person("Report", Some(&manager), None).await;
    let (status, body) = app
        .mutate(
            "meeting.create",
            json!({"personId": report, "date": "-004713-11-24T00:00:00.000Z"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .mutate(
            "meeting.create",
            json!({"personId": report, "date": "-004713-11-23T23:59:59.999Z"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["data"]["zodError"]["fieldErrors"]["date"][0],
        "Date must be greater than or equal to -004713-11-24T00:00:00.000Z"
    );
}
