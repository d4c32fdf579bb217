//! GitHub repository slugs, parsed once from a project's `github_url`.

use std::fmt;

/// `owner/repo` of a repository on github.com, as written in the project's URL.
///
/// Both parts are kept percent-encoded exactly as the WHATWG URL parser leaves them
/// in the path (the original's `parseGitHubUrl`), so they can be put in a request
/// path as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoSlug {
    pub owner: String,
    pub repo: String,
}

impl RepoSlug {
    /// Parses a project's GitHub URL like the original's `parseGitHubUrl`:
    ///
    /// * the URL must parse (WHATWG rules; the scheme is not checked);
    /// * the host must be exactly `github.com` after normalisation
    ///   (`www.github.com` and `api.github.com` are refused);
    /// * the first two non-empty path segments are owner and repository, with one
    ///   trailing `.git` removed; further segments, query and fragment are ignored.
    ///
    /// ```
    /// use enghub::github::RepoSlug;
    /// let slug = RepoSlug::parse("https://GitHub.com/acme/api.git/tree/main?x#y").unwrap();
    /// assert_eq!((slug.owner.as_str(), slug.repo.as_str()), ("acme", "api"));
    /// assert!(RepoSlug::parse("https://www.github.com/acme/api").is_none());
    /// assert!(RepoSlug::parse("https://github.com/acme").is_none());
    /// ```
    pub fn parse(url: &str) -> Option<RepoSlug> {
        let parsed = url::Url::parse(url).ok()?;
        if parsed.host_str()? != "github.com" {
            return None;
        }
        let mut segments = parsed.path().split('/').filter(|s| !s.is_empty());
        let owner = segments.next()?;
        let repo = segments.next()?;
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        Some(RepoSlug {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        })
    }
}

impl fmt::Display for RepoSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Option<(String, String)> {
        RepoSlug::parse(url).map(|s| (s.owner, s.repo))
    }

    fn pair(owner: &str, repo: &str) -> Option<(String, String)> {
        Some((owner.into(), repo.into()))
    }

    #[test]
    fn plain_repository_urls_parse() {
        assert_eq!(parse("https://github.com/o/r"), pair("o", "r"));
        assert_eq!(parse("https://github.com/o/r/"), pair("o", "r"));
        assert_eq!(parse("http://github.com/o/r"), pair("o", "r"));
    }

    #[test]
    fn one_trailing_dot_git_is_removed() {
        assert_eq!(parse("https://github.com/o/r.git"), pair("o", "r"));
        assert_eq!(parse("https://github.com/o/r.git.git"), pair("o", "r.git"));
    }

    #[test]
    fn extra_segments_query_and_fragment_are_ignored() {
        assert_eq!(
            parse("https://github.com/o/r/tree/main?x=1#y"),
            pair("o", "r")
        );
        assert_eq!(parse("https://github.com//o//r"), pair("o", "r"));
    }

    #[test]
    fn host_must_be_exactly_github_com_after_lowercasing() {
        assert_eq!(parse("https://GITHUB.COM/o/r"), pair("o", "r"));
        assert_eq!(parse("https://www.github.com/o/r"), None);
        assert_eq!(parse("https://api.github.com/o/r"), None);
        assert_eq!(parse("https://gitlab.com/o/r"), None);
    }

    #[test]
    fn scheme_is_not_checked() {
        assert_eq!(parse("ftp://github.com/o/r"), pair("o", "r"));
    }

    #[test]
    fn fewer_than_two_segments_or_unparseable_is_none() {
        assert_eq!(parse("https://github.com/o"), None);
        assert_eq!(parse("https://github.com/"), None);
        assert_eq!(parse("github.com/o/r"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn segments_stay_percent_encoded() {
        assert_eq!(
            parse("https://github.com/o%20x/r é"),
            pair("o%20x", "r%20%C3%A9")
        );
    }
}
