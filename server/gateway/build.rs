//! Build script: records the git commit for `hushpay --version` (`HUSHPAY_GIT_COMMIT`).
//! A build outside a checkout (a source tarball, a container without `.git`) says `unknown`,
//! unless `HUSHPAY_GIT_COMMIT` is set in the build's environment (the Dockerfile passes it).

#[path = "build/git_commit.rs"]
mod git_commit;

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-env-changed=HUSHPAY_GIT_COMMIT");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let dir = Path::new(&dir);
    let commit = match std::env::var("HUSHPAY_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => git_commit::git_commit(dir),
    };
    for file in git_commit::git_watch_files(dir) {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    println!("cargo::rerun-if-changed=build/git_commit.rs");
    println!("cargo::rustc-env=HUSHPAY_GIT_COMMIT={commit}");
}
