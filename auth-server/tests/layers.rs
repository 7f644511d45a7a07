//! The protocol and account logic knows no HTTP framework: no file under `src/oauth/` or
//! `src/accounts/` names actix or reaches into the HTTP side of the crate (`web`, `routes`,
//! `error` with the page-rendering `AppError`, `templates`, `state`). Comments are not
//! code and are skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Modules of this crate that are HTTP: logic modules must not use them.
const HTTP_MODULES: &[&str] = &["web", "routes", "error", "templates", "state"];
/// Words that only HTTP code has any use for.
const HTTP_WORDS: &[&str] = &["actix", "AppError", "HttpRequest", "HttpResponse"];
/// The directories of logic modules.
const LOGIC_DIRS: &[&str] = &["src/oauth", "src/accounts"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The source without `//` comments and without whitespace, so `crate :: web` reads as
/// `crate::web` (a `//` inside a string literal cuts the line short, which can only hide
/// a string, never an import).
fn code_only(source: &str) -> String {
    source
        .lines()
        .flat_map(|line| line.split("//").next().unwrap_or_default().chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn leading_ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first-level module names after each `crate::`, including those in a group
/// (`crate::{web::x, state}`).
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.push(leading_ident(rest).to_owned());
            continue;
        };
        let mut depth = 0;
        let mut item_start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(leading_ident(&group[item_start..i]).to_owned());
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(leading_ident(&group[item_start..i]).to_owned());
                    item_start = i + 1;
                }
                _ => {}
            }
        }
    }
    names
}

/// What in `source` ties it to HTTP.
fn violations(source: &str) -> Vec<String> {
    let code = code_only(source);
    let mut found: Vec<String> = HTTP_WORDS
        .iter()
        .filter(|word| code.contains(*word))
        .map(|word| format!("mentions `{word}`"))
        .collect();
    found.extend(
        crate_paths(&code)
            .into_iter()
            .filter(|name| HTTP_MODULES.contains(&name.as_str()))
            .map(|name| format!("uses `crate::{name}`")),
    );
    found
}

#[test]
fn logic_modules_know_no_http() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in LOGIC_DIRS {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 10, "the logic modules were not found");
    let mut problems = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for problem in violations(&source) {
            problems.push(format!("{}: {problem}", file.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_imports_in_every_form() {
    for source in [
        "use actix_web::HttpResponse;",
        "let r = actix_web::web::block(f);",
        "use crate::error::AppError;",
        "use crate::web::return_to::percent_encode;",
        "use crate::routes;",
        "use crate::{oauth::scope::Scope, state::AppState};",
        "use crate::{\n    templates::{self, render},\n};",
        "fn f() -> Result<(), crate :: error::Whatever> {}",
    ] {
        assert!(!violations(source).is_empty(), "not caught: {source}");
    }
    for source in [
        "use super::error::OAuthError;",
        "use crate::domain::Username;",
        "use crate::{oauth::scope::Scope, password_hash};",
        "//! no actix types here",
        "let x = 1; // not crate::web",
    ] {
        assert!(violations(source).is_empty(), "wrongly caught: {source}");
    }
}
