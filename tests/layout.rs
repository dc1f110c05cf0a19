//! The crate's layers: the shared words (targets, the report, the CPA's wire
//! types) sit at the bottom and name no stage, and the metric stage names
//! nothing of the evaluate stage. A `use` that reaches upwards fails here.

use std::path::{Path, PathBuf};

/// Every `.rs` file at `path` (a file, or a folder walked recursively).
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(path) else {
        return files;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// Code lines (not comments) of the files under `roots` that name any of
/// `forbidden`, as `file:line: text`.
fn reaching_up(roots: &[&str], forbidden: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut files = 0;
    for root in roots {
        for file in rust_files(&src.join(root)) {
            files += 1;
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if forbidden.iter().any(|name| code.contains(name)) {
                    found.push(format!("{}:{}: {code}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(files > 0, "no source files under {roots:?}");
    found
}

#[test]
fn the_metric_stage_names_nothing_of_the_evaluate_stage() {
    let found = reaching_up(&["metric"], &["crate::evaluate", "super::evaluate"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn targets_the_report_and_the_cpa_wire_types_name_no_stage() {
    let found = reaching_up(
        &["target", "report", "cpa"],
        &[
            "crate::evaluate",
            "crate::metric",
            "crate::simulate",
            "crate::alerts",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
