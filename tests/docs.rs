//! The documentation keeps the promises a user relies on: it cites nothing
//! outside this repository, the CPA contract is a page of the site, the
//! migration guide covers what an LPA deployment must change, and every
//! relative link in the docs lands on a file and heading that exist. Plain
//! file reads; `mkdocs build --strict` checks the rendered site in CI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every file under `dir` (relative to the repository), skipping build output
/// and hidden folders.
fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::from(dir)];
    while let Some(current) = pending.pop() {
        let full = root().join(&current);
        if full.is_file() {
            found.push(current);
            continue;
        }
        for entry in std::fs::read_dir(&full).unwrap_or_else(|err| panic!("{dir}: {err}")) {
            let name = entry.unwrap().file_name();
            let name = name.to_string_lossy();
            if name != "target" && !name.starts_with('.') {
                pending.push(current.join(name.as_ref()));
            }
        }
    }
    found.sort();
    found
}

/// The Markdown pages of the site, `docs/*.md`.
fn doc_pages() -> Vec<PathBuf> {
    files_under("docs")
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect()
}

/// The lines of a Markdown page outside fenced code blocks, with their
/// inline code spans blanked out.
fn prose_lines(markdown: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut prose = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                prose.push_str(part);
            }
            prose.push(' ');
        }
        lines.push(prose);
    }
    lines
}

/// The anchor mkdocs gives a heading (Python-Markdown's `toc` slugify):
/// lower case, word characters, spaces and hyphens only, runs of spaces and
/// hyphens become one hyphen.
fn slug(heading: &str) -> String {
    let kept: String = heading
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || c.is_whitespace())
        .collect::<String>()
        .trim()
        .to_lowercase();
    let mut slug = String::new();
    for c in kept.chars() {
        if c == '-' || c.is_whitespace() {
            if !slug.ends_with('-') {
                slug.push('-');
            }
        } else {
            slug.push(c);
        }
    }
    slug
}

/// The anchors of a page's headings.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_fence = false;
    let mut found = BTreeSet::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence && line.starts_with('#') {
            found.insert(slug(line.trim_start_matches('#')));
        }
    }
    found
}

/// The targets of the inline links and images of a page: `[text](target)`.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(markdown) {
        let mut rest = line.as_str();
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.to_string());
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn no_file_a_user_gets_cites_the_projects_private_notes() {
    // The notes folder beside the repository is not part of it.
    let needle = ["shared", "/"].concat();
    let mut files = vec![
        PathBuf::from("README.md"),
        PathBuf::from("Dockerfile"),
        PathBuf::from("config.yaml"),
        PathBuf::from("mkdocs.yml"),
    ];
    for dir in ["docs", "example", "src", "scripts", "scenarios", "profiles"] {
        files.extend(files_under(dir));
    }
    let mut citations = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(root().join(path)) else {
            continue; // not text
        };
        for (number, line) in text.lines().enumerate() {
            if line.contains(&needle) {
                citations.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        citations.is_empty(),
        "cite docs/cpa-contract.md (or another file of the repository) instead:\n{}",
        citations.join("\n")
    );
}

#[test]
fn the_cpa_contract_is_a_page_of_the_site_that_the_guide_links() {
    let contract = read(Path::new("docs/cpa-contract.md"));
    for fact in ["logStderr", "targetReplicas", "runType", "per-resource"] {
        assert!(contract.contains(fact), "docs/cpa-contract.md tells {fact}");
    }
    let linking: Vec<PathBuf> = doc_pages()
        .into_iter()
        .filter(|page| {
            link_targets(&read(page))
                .iter()
                .any(|t| t.starts_with("cpa-contract.md"))
        })
        .collect();
    for page in ["docs/how-it-works.md", "docs/simulate.md"] {
        assert!(
            linking.contains(&PathBuf::from(page)),
            "{page} links the CPA contract; pages linking it: {linking:?}"
        );
    }
}

#[test]
fn every_page_of_the_docs_is_in_the_site_nav() {
    let mkdocs = read(Path::new("mkdocs.yml"));
    let nav = &mkdocs[mkdocs.find("\nnav:").expect("mkdocs.yml has a nav")..];
    for page in doc_pages() {
        let name = page.strip_prefix("docs").unwrap().to_string_lossy();
        let name = name.trim_start_matches('/');
        assert!(
            nav.lines()
                .any(|line| line.trim_end().ends_with(&format!(": {name}"))),
            "mkdocs.yml's nav lists {name}"
        );
    }
}

#[test]
fn every_relative_link_lands_on_an_existing_file_and_heading() {
    let mut pages = doc_pages();
    pages.push(PathBuf::from("README.md"));
    pages.push(PathBuf::from("example/README.md"));
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = read(page);
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let linked = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !root().join(&linked).exists() {
                broken.push(format!(
                    "{}: {target}: no file {}",
                    page.display(),
                    linked.display()
                ));
            } else if !anchor.is_empty() && !anchors(&read(&linked)).contains(anchor) {
                broken.push(format!("{}: {target}: no such heading", page.display()));
            }
        }
    }
    assert!(checked > 20, "links found: {checked}");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_migration_guide_says_v1alpha1_resources_become_v1() {
    let guide = read(Path::new("docs/migrating.md"));
    let start = guide
        .lines()
        .position(|line| line.starts_with("## ") && line.contains("v1alpha1"))
        .expect("docs/migrating.md has a section on v1alpha1");
    let section: Vec<&str> = guide
        .lines()
        .skip(start + 1)
        .take_while(|line| !line.starts_with("## "))
        .collect();
    let section = section.join("\n");
    let declares_v1 = |line: &&str| {
        line.trim_start()
            .strip_prefix("apiVersion: custompodautoscaler.com/v1")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '#']))
    };
    assert!(
        section.contains("custompodautoscaler.com/v1alpha1")
            && section.lines().any(|l| declares_v1(&l)),
        "the section names the old apiVersion and shows a manifest with the new one:\n{section}"
    );
    // What we ship must already be v1.
    for path in files_under("example") {
        if path.extension().is_some_and(|ext| ext == "yaml") {
            for line in read(&path).lines() {
                if let Some(version) = line.strip_prefix("apiVersion: custompodautoscaler.com/") {
                    assert_eq!(version.trim(), "v1", "{}", path.display());
                }
            }
        }
    }
}

#[test]
fn the_locustfile_path_error_lands_on_a_conversion_section() {
    let guide = read(Path::new("docs/migrating.md"));
    assert!(
        anchors(&guide).contains("converting-a-locustfile"),
        "docs/migrating.md has a 'Converting a locustfile' section"
    );
    let troubleshooting = read(Path::new("docs/troubleshooting.md"));
    assert!(
        troubleshooting.contains("locustFilePath")
            && link_targets(&troubleshooting)
                .iter()
                .any(|t| t == "migrating.md#converting-a-locustfile"),
        "docs/troubleshooting.md lists the locustFilePath error and links the conversion"
    );
    // gpa-metric itself points there: with 0 replicas it runs no load test,
    // so this checks the settings only.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gpa-metric"))
        .args(["--replicas", "0", "--host", "http://127.0.0.1:9"])
        .arg("--scenario-file")
        .arg(root().join("example/scenario.yaml"))
        .env("locustFilePath", "/locustfile.py")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "locustFilePath is an error: {stderr}"
    );
    assert!(output.stdout.is_empty(), "no report on stdout");
    let pointer = stderr
        .split_whitespace()
        .find(|word| word.contains("migrating.md"))
        .unwrap_or_else(|| panic!("the error points to docs/migrating.md: {stderr}"));
    if let Some((_, anchor)) = pointer.split_once('#') {
        let anchor = anchor.trim_end_matches(|c: char| !c.is_alphanumeric());
        assert!(
            anchors(&guide).contains(anchor),
            "the error's anchor #{anchor} is a heading of docs/migrating.md"
        );
    }
}

#[test]
fn the_anchor_of_a_heading_is_the_one_mkdocs_makes() {
    for (heading, anchor) in [
        (" Converting a locustfile", "converting-a-locustfile"),
        (
            " The CustomPodAutoscaler resource: v1alpha1 becomes v1",
            "the-custompodautoscaler-resource-v1alpha1-becomes-v1",
        ),
        (
            " The metric stage: `gpa-metric`",
            "the-metric-stage-gpa-metric",
        ),
        (" Scale-up -- and decay", "scale-up-and-decay"),
    ] {
        assert_eq!(slug(heading), anchor, "{heading}");
    }
}

/// The rule names listed under `heading` (a line of docs/evaluate.md's
/// "The rules, in order" section), in their order: each numbered item's
/// first code span.
fn listed_rules(section: &str, heading: &str) -> Vec<String> {
    let start = section
        .find(heading)
        .unwrap_or_else(|| panic!("'{heading}' is not in the rules section"));
    let mut names = Vec::new();
    let mut started = false;
    for line in section[start + heading.len()..].lines().skip(1) {
        let item = line
            .split_once(". `")
            .filter(|(number, _)| !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()));
        match item {
            Some((_, rest)) => {
                started = true;
                names.push(rest.split('`').next().unwrap().to_owned());
            }
            // a list ends at the first line that is neither an item nor
            // its indented continuation
            None if started && !line.starts_with(' ') => break,
            None => {}
        }
    }
    names
}

#[test]
fn the_docs_list_the_rules_and_limits_in_the_order_the_decision_tries_them() {
    use goose_pod_autoscaler::evaluate::overrides::{LIMITS, Limit};
    use goose_pod_autoscaler::evaluate::rules::{MET_RULES, MISS_RULES, OTHER_RULES, Rule};
    let page = read(Path::new("docs/evaluate.md"));
    let start = page
        .find("## The rules, in order")
        .expect("the rules section");
    let end = start
        + page[start..]
            .find("\n## Starting replicas")
            .expect("its end");
    let section = &page[start..end];
    let names = |rules: &[Rule]| {
        rules
            .iter()
            .map(|rule| rule.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed_rules(section, "Before the report is judged:"),
        names(&OTHER_RULES)
    );
    assert_eq!(
        listed_rules(section, "A target missed:"),
        names(&MISS_RULES)
    );
    assert_eq!(
        listed_rules(section, "Every target met:"),
        names(&MET_RULES)
    );
    assert_eq!(
        listed_rules(section, "The limits, in order"),
        LIMITS
            .iter()
            .map(|limit: &Limit| limit.name().to_owned())
            .collect::<Vec<_>>()
    );
}

/// docs/alerts.md's "Connections" section states the limits the sidecar
/// really applies, so a change to one is a change to the docs.
#[cfg(feature = "alerts")]
#[test]
fn the_sidecar_s_connection_limits_in_the_docs_are_the_code_s() {
    use goose_pod_autoscaler::alerts::connections::DEFAULT_LIMITS;
    let page = read(Path::new("docs/alerts.md"));
    let start = page.find("### Connections").expect("a Connections section");
    let end = start
        + page[start + 1..]
            .find("\n#")
            .map_or(page.len() - start, |at| at + 1);
    let section = page[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for claim in [
        format!(
            "At most {} connections at once",
            DEFAULT_LIMITS.max_connections
        ),
        format!(
            "{} seconds to send a request's headers",
            DEFAULT_LIMITS.header_read.as_secs()
        ),
        format!(
            "an idle keep-alive connection is closed after {} seconds",
            DEFAULT_LIMITS.header_read.as_secs()
        ),
        format!(
            "{} seconds to send the body",
            DEFAULT_LIMITS.body_read.as_secs()
        ),
        format!(
            "Shutdown within {} seconds",
            DEFAULT_LIMITS.shutdown_grace.as_secs()
        ),
    ] {
        assert!(
            section.contains(&claim),
            "docs/alerts.md Connections should say '{claim}'"
        );
    }
}

/// Every sample decision line in the docs and the README (`INFO scale ...`,
/// `INFO hold ...`) ends as the evaluate stage's lines do: with the rule
/// that decided, a rule of the tables.
#[test]
fn every_sample_decision_line_names_a_rule_of_the_tables() {
    use goose_pod_autoscaler::evaluate::rules::{MET_RULES, MISS_RULES, OTHER_RULES};
    let rules: Vec<&str> = MISS_RULES
        .iter()
        .chain(&MET_RULES)
        .chain(&OTHER_RULES)
        .map(|rule| rule.name())
        .collect();
    let mut pages = doc_pages();
    pages.push(PathBuf::from("README.md"));
    let mut seen = 0;
    for page in &pages {
        for (number, line) in read(page).lines().enumerate() {
            if !(line.contains("INFO scale ") || line.contains("INFO hold ")) {
                continue;
            }
            seen += 1;
            let named = line
                .trim_end()
                .trim_end_matches('`')
                .strip_suffix(')')
                .and_then(|rest| rest.rsplit_once("(rule: "))
                .map(|(_, name)| name);
            assert!(
                named.is_some_and(|name| rules.contains(&name)),
                "{}:{}: a sample decision line should end with (rule: <a rule of the tables>): {line}",
                page.display(),
                number + 1
            );
        }
    }
    assert!(seen >= 20, "only {seen} sample decision lines found");
}
