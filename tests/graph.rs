//! `voyager graph`: snapshots of the flowcharts of the examples, in Mermaid
//! and Graphviz dot, and dot output that Graphviz itself accepts.

use std::path::Path;
use std::process::{Command, Stdio};

use voyager::graph::{graph_source, Format};

fn graph(example: &str, format: Format) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    match graph_source(example, &text, path.parent(), format, false) {
        Ok(graph) => graph,
        Err(e) => panic!("{example}: {}", e.message),
    }
}

#[test]
fn hello_mermaid() {
    insta::assert_snapshot!(graph("hello.vy", Format::Mermaid));
}

#[test]
fn hello_dot() {
    insta::assert_snapshot!(graph("hello.vy", Format::Dot));
}

#[test]
fn pipeline_mermaid() {
    insta::assert_snapshot!(graph("pipeline.vy", Format::Mermaid));
}

#[test]
fn pipeline_dot() {
    insta::assert_snapshot!(graph("pipeline.vy", Format::Dot));
}

#[test]
fn batching_mermaid() {
    insta::assert_snapshot!(graph("batching.vy", Format::Mermaid));
}

#[test]
fn batching_dot() {
    insta::assert_snapshot!(graph("batching.vy", Format::Dot));
}

#[test]
fn graphviz_accepts_the_dot_output() {
    let version = Command::new("dot").arg("-V").output();
    if !version.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED graphviz_accepts_the_dot_output: `dot` (Graphviz) is not installed");
        return;
    }
    for example in [
        "hello.vy",
        "pipeline.vy",
        "batching.vy",
        "workflow.vy",
        "tour.vy",
    ] {
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dot starts");
        let dot = graph(example, Format::Dot);
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), dot.as_bytes())
            .expect("write to dot");
        let out = child.wait_with_output().expect("dot finishes");
        assert!(
            out.status.success(),
            "{example}: dot refused it:\n{}\n{dot}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    }
}

fn voyager(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("voyager finishes")
}

#[test]
fn the_command_line() {
    let src = "action greet(who) { print(who) }\n\
               observe \"log\" when call(greet, _)\n\
               pass \"log\" (msgs) { [] }\n\
               void(timeout(2s, seq([call(greet, \"A\"), delay(5ms)])))\n";
    let out = voyager(&["graph", "-"], src);
    assert_eq!(out.status.code(), Some(0));
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    for part in [
        "subgraph g0 [\"void: data dropped\"]",
        "subgraph g1 [\"timeout 2s\"]",
        "[\"greet(#quot;A#quot;)\"]",
        "([\"wait 5ms\"])",
        "[(\"observe #quot;log#quot;\")]",
        "[[\"pass #quot;log#quot;\"]]",
        "-.->|copied|",
    ] {
        assert!(mermaid.contains(part), "no {part} in\n{mermaid}");
    }
    // Nothing was run: the action's print did not happen.
    assert!(!mermaid.contains("\nA\n"));

    let out = voyager(&["graph", "--format", "dot", "-"], "print(1)\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digraph voyager {"));

    let out = voyager(&["--color", "never", "graph", "-"], "call(nope)\n");
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));

    let out = voyager(&["--color", "never", "graph", "-"], "while true { }\n");
    assert_eq!(out.status.code(), Some(1), "a runaway top level is stopped");
}

#[test]
fn the_readme_shows_what_hello_draws() {
    let readme = include_str!("../README.md");
    let block = readme
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a mermaid block");
    assert_eq!(block, graph("hello.vy", Format::Mermaid));
}

#[test]
fn deeply_nested_messages_are_cut_short() {
    let src = "action a(x) { }\n\
               let m = call(a, 0)\n\
               for i in range(0, 5000) { m = seq([m, call(a, i)]) }\n\
               m\n";
    let graph = graph_source("deep.vy", src, None, Format::Mermaid, false).expect("draws");
    assert!(graph.contains("… nested deeper"), "{graph}");
    assert!(graph.lines().count() < 200, "{graph}");
}
