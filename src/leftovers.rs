//! Leftovers of interrupted atomic writes. A file replaced atomically
//! ([`crate::state`]'s `replace_atomically`, used for the decay state and
//! the boosts file) is first written to a temporary `.<name>.<random>.tmp`
//! beside it; a process killed before the rename leaves that file behind.
//! The next write of the same file removes them.
//!
//! Safe only because each file has one writer at a time: the decay state is
//! written under its lock, the boosts file by the one `gpa alerts` process
//! under its write lock. The pattern is exact (`<random>` is letters and
//! digits, as `tempfile` makes it), so another file's temporary files in the
//! same folder (`.state.json.<random>.tmp` beside `state`) are never matched.

use std::path::Path;

/// Removes the leftover temporary files of `name` in `folder`; returns how
/// many were removed. Errors (a file already gone, no permission) are
/// skipped: a leftover is untidy, never harmful.
pub fn remove(folder: &Path, name: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let prefix = format!(".{name}.");
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let is_leftover = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|random| {
                !random.is_empty() && random.chars().all(|c| c.is_ascii_alphanumeric())
            });
        // a regular file only: never a folder, never through a link
        if is_leftover
            && entry.file_type().is_ok_and(|kind| kind.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(
            "removed {removed} leftover temporary file(s) of '{}' in '{}' (from an interrupted earlier write)",
            name,
            folder.display()
        );
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_the_named_file_s_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let touch = |name: &str| std::fs::write(dir.path().join(name), "x").unwrap();
        let leftovers = [".boosts.json.a1B2c3.tmp", ".boosts.json.ZZZZZZ.tmp"];
        let kept = [
            "boosts.json",
            ".boosts.json.corrupt-1.tmp.bak",
            ".boosts.json..tmp",
            ".boosts.json.x.y.tmp",
            ".boosts.json.json.a1B2c3.tmp",
            ".state.json.a1B2c3.tmp",
            "boosts.json.a1B2c3.tmp",
            "notes.tmp",
        ];
        for name in leftovers.iter().chain(&kept) {
            touch(name);
        }
        std::fs::create_dir(dir.path().join(".boosts.json.folder.tmp")).unwrap();
        assert_eq!(remove(dir.path(), "boosts.json"), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
        want.push(".boosts.json.folder.tmp".into());
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn a_name_that_prefixes_another_leaves_the_other_s_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".state.json.a1B2c3.tmp"), "x").unwrap();
        std::fs::write(dir.path().join(".state.q9w8e7.tmp"), "x").unwrap();
        assert_eq!(remove(dir.path(), "state"), 1);
        assert!(dir.path().join(".state.json.a1B2c3.tmp").exists());
    }
}
