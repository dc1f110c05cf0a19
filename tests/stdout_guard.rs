//! The stdout guard works at the file-descriptor level: anything written to
//! fd 1 while it is installed (println!, a logger, a C library) lands on
//! stderr, and only the document reaches the real stdout. The test re-runs
//! its own binary as a child so the harness's stdout is not disturbed.

use std::io::Write;
use std::process::Command;

use goose_pod_autoscaler::metric::stdout_guard::StdoutGuard;

const CHILD: &str = "GPA_STDOUT_GUARD_CHILD";

#[test]
fn writes_to_fd_1_under_the_guard_reach_stderr_and_only_the_document_reaches_stdout() {
    if std::env::var_os(CHILD).is_some() {
        let mut guard = StdoutGuard::install().unwrap();
        println!("noise from println");
        std::io::stdout()
            .write_all(b"noise from a raw write\n")
            .unwrap();
        rustix::io::write(rustix::stdio::stdout(), b"noise from fd 1\n").unwrap();
        guard.write_document(r#"{"requests":{}}"#).unwrap();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args([
            "--exact",
            "writes_to_fd_1_under_the_guard_reach_stderr_and_only_the_document_reaches_stdout",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains("noise"), "stdout: {stdout}");
    assert!(stdout.contains("{\"requests\":{}}\n"), "stdout: {stdout}");
    for noise in [
        "noise from println",
        "noise from a raw write",
        "noise from fd 1",
    ] {
        assert!(stderr.contains(noise), "{noise} in stderr: {stderr}");
    }
}
