//! The version line of `hushpay --version` and the start-up log: the crate version and the git
//! commit the build script (`build.rs`) found, `unknown` outside a git checkout.

/// `0.1.0 (commit 0123456789ab)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HUSHPAY_GIT_COMMIT"),
    ")"
);

/// The git commit alone (12 hex digits, or `unknown`).
pub const COMMIT: &str = env!("HUSHPAY_GIT_COMMIT");

#[cfg(test)]
#[path = "../build/git_commit.rs"]
mod git_commit;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::path::Path;

    use super::git_commit::{UNKNOWN, git_commit, git_watch_files};

    #[test]
    fn outside_a_checkout_the_commit_is_unknown_and_nothing_is_watched() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(git_commit(dir.path()), UNKNOWN);
        assert!(git_watch_files(dir.path()).is_empty());
        assert_eq!(git_commit(&dir.path().join("missing")), UNKNOWN);
    }

    #[test]
    fn in_a_fresh_repository_the_commit_is_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
                .args(args)
                .output()
                .expect("git runs");
            assert!(out.status.success(), "git {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        git(&["init", "-q", "-b", "main"]);
        // No commit yet: HEAD names nothing.
        assert_eq!(git_commit(dir.path()), UNKNOWN);
        git(&["commit", "-q", "--allow-empty", "-m", "one"]);
        let head = git(&["rev-parse", "HEAD"]);
        assert_eq!(git_commit(dir.path()), head[..12]);
        let watched = git_watch_files(dir.path());
        assert!(watched.iter().any(|p| p.ends_with("HEAD")), "{watched:?}");
        assert!(
            watched
                .iter()
                .any(|p| p.ends_with(Path::new("refs/heads/main"))),
            "{watched:?}"
        );
        git(&["commit", "-q", "--allow-empty", "-m", "two"]);
        assert_ne!(git_commit(dir.path()), head[..12]);
    }

    #[test]
    fn the_version_line_names_the_crate_version_and_a_commit() {
        assert!(super::LONG.starts_with(env!("CARGO_PKG_VERSION")));
        let commit = super::COMMIT;
        assert!(
            commit == UNKNOWN
                || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
            "{commit}"
        );
    }
}
