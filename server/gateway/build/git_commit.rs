//! The git commit a build comes from, for `hushpay --version`. Shared by the build script
//! (`build.rs`) and the crate's tests (`version` module), so the fallback is tested.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the version line says when the commit is unknown: not a git checkout (a source
/// tarball, a container build without `.git`), or no `git` program.
pub const UNKNOWN: &str = "unknown";

/// The short (12 hex digit) commit of the checkout holding `dir`; [`UNKNOWN`] when there is
/// none. (No `-dirty` mark: finding one means `git status`, which rewrites the index, and a
/// build script watching the index would then run on every build.)
pub fn git_commit(dir: &Path) -> String {
    match git(dir, &["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) if commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit()) => {
            commit
        }
        _ => UNKNOWN.to_owned(),
    }
}

/// The files whose change means another commit (HEAD, the branch it points to, packed refs),
/// for the build script's `rerun-if-changed`; only files that exist (cargo reruns a script on
/// every build when a watched path is missing); empty outside a checkout.
pub fn git_watch_files(dir: &Path) -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| {
            git(
                dir,
                &["rev-parse", "--path-format=absolute", "--git-path", name],
            )
        })
        .map(PathBuf::from)
        .filter(|path| path.is_file())
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned())
}
