//! The shape of the code, checked on every run: within each crate the modules depend on
//! each other one way (no import cycle between files), so a change to a low module never
//! has to know about a high one.
//!
//! The check reads the sources: every `crate::…`, `super::…` and `self::…` path outside
//! comments and test modules is resolved to the file module it names. A module using its
//! own parent or children is not counted (that is how Rust modules re-export and share).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`oauth::codes`) → source text, for one crate's `src/`.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                found.insert(
                    parts.join("::"),
                    code_only(&std::fs::read_to_string(&path).unwrap()),
                );
            }
        }
    }
    found
}

/// The source without comments and without a trailing `#[cfg(test)] mod tests`.
fn code_only(source: &str) -> String {
    let without_tests = source
        .find("#[cfg(test)]\nmod tests")
        .map_or(source, |at| &source[..at]);
    without_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `prefix` path in `code`, as its `::`-separated words.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let words: Vec<&str> = rest
            .split("::")
            .map_while(|word| {
                let end = word
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(word.len());
                (end > 0).then(|| &word[..end])
            })
            .collect();
        paths.push(words);
    }
    paths
}

/// The longest known module that `words` (a path from `base`) names.
fn resolve(known: &BTreeMap<String, String>, base: &[&str], words: &[&str]) -> Option<String> {
    let mut full: Vec<&str> = base.to_vec();
    full.extend_from_slice(words);
    (1..=full.len())
        .rev()
        .map(|len| full[..len].join("::"))
        .find(|candidate| known.contains_key(candidate))
}

fn related(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a.starts_with(&format!("{b}::"))
        || b.starts_with(&format!("{a}::"))
}

fn dependencies(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, source) in known {
        let code = &code_only(source);
        let here: Vec<&str> = module.split("::").filter(|w| !w.is_empty()).collect();
        let parent = &here[..here.len().saturating_sub(1)];
        let mut uses = BTreeSet::new();
        let mut add = |base: &[&str], words: Vec<&str>| {
            if let Some(target) = resolve(known, base, &words)
                && target != *module
                && !related(module, &target)
            {
                uses.insert(target);
            }
        };
        for words in paths_after(code, "crate::") {
            add(&[], words);
        }
        for words in paths_after(code, "super::") {
            add(parent, words);
        }
        for words in paths_after(code, "self::") {
            add(&here, words);
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut marks, &mut Vec::new()))
}

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    for name in ["auth-server", "resource-api", "shared"] {
        let known = modules(&crate_src(name));
        assert!(known.len() > 5, "{name}: sources found");
        let graph = dependencies(&known);
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{name}: modules depend on each other in a circle: {}",
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let known: BTreeMap<String, String> = [
        ("".to_owned(), String::new()),
        ("a".to_owned(), "use crate::b::Thing;".to_owned()),
        ("b".to_owned(), "fn f() { super::c::g() }".to_owned()),
        (
            "c".to_owned(),
            "pub use crate::a::Other; // crate::b in a comment".to_owned(),
        ),
        ("a::inner".to_owned(), "use super::Thing;".to_owned()),
    ]
    .into_iter()
    .collect();
    let cycle = find_cycle(&dependencies(&known)).expect("a → b → c → a");
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    let mut acyclic = known.clone();
    acyclic.insert("c".to_owned(), "// crate::a::Other".to_owned());
    assert_eq!(find_cycle(&dependencies(&acyclic)), None);
}
