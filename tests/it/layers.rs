//! ARCHITECTURE.md's layer order, checked against the source: every `crate::module` a
//! top-level module names (outside its tests and comments) is in its own layer or a lower
//! one, and no two modules import each other, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom, as drawn in ARCHITECTURE.md ("Layers").
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["service", "web"],
    &["notify", "sync"],
    &["providers", "pipeline", "report", "status", "schedule"],
    &["analysis", "store", "ratings", "catalog", "draft", "names", "csv_import", "config"],
    &["symbol", "ids", "prices", "text", "clock", "lock"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A file's code outside its tests, with line comments removed.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap();
    code.lines().map(|line| line.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// The first path segment after each `prefix` in `code`: `crate::store::Store` gives `store`,
/// and a group, `crate::{store, report::{self, Format}}` (across lines too), gives each of
/// its items' first segments, `store` and `report`.
fn names_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |text: &str| -> String { text.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut names = Vec::new();
    for (index, _) in code.match_indices(prefix) {
        let rest = &code[index + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The items at depth 0 of the brace group.
            let (mut depth, mut start) = (0usize, 0usize);
            for (at, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(ident(&group[start..at]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(ident(&group[start..at]));
                        start = at + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(rest));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

/// Which top-level modules each top-level module imports, read from `src/`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if first == "lib" || first == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Test modules may reach anywhere; a file named tests.rs is one.
        if relative.file_name().is_some_and(|name| name == "tests.rs") {
            continue;
        }
        for name in names_after(&code_of(&text), "crate::") {
            if layer_of(&name).is_some() && name != first {
                graph.entry(first.clone()).or_default().insert(name);
            }
        }
    }
    graph
}

/// Whether `target` can be reached from `from` along the import edges (depth first).
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
    for next in graph.get(from).into_iter().flatten() {
        if next == target || (seen.insert(next.clone()) && reaches(graph, next, target, seen)) {
            return true;
        }
    }
    false
}

#[test]
fn every_module_is_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules: Vec<&str> = lib.lines().filter_map(|line| line.strip_prefix("pub mod ")).map(|m| m.trim_end_matches(';')).collect();
    assert!(modules.len() > 20, "{modules:?}");
    for module in modules {
        assert!(layer_of(module).is_some(), "module `{module}` is in no layer of ARCHITECTURE.md");
    }
}

#[test]
fn no_module_imports_from_a_higher_layer() {
    let mut upward = Vec::new();
    for (module, used) in imports() {
        let own = layer_of(&module).unwrap();
        for target in used {
            if layer_of(&target).unwrap() < own {
                upward.push(format!("{module} -> {target}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layer order: {upward:?}");
}

#[test]
fn report_and_web_import_nothing_from_service() {
    let graph = imports();
    for module in ["report", "web"] {
        assert!(!graph.get(module).is_some_and(|used| used.contains("service")), "{module} imports service");
    }
}

#[test]
fn no_import_circle_between_modules() {
    let graph = imports();
    let circles: Vec<&String> = graph.keys().filter(|module| reaches(&graph, module, module, &mut BTreeSet::new())).collect();
    assert!(circles.is_empty(), "modules on an import circle: {circles:?}");
}

#[test]
fn grouped_imports_are_read_as_edges() {
    let code = code_of(
        "use crate::{store, report::{self, Format}};\nuse super::{\n    cache::Answer,\n    pages,\n};\n// use crate::service;\nlet x = crate::sync::run;",
    );
    assert_eq!(names_after(&code, "crate::"), ["store", "report", "sync"]);
    assert_eq!(names_after(&code, "super::"), ["cache", "pages"]);
}

/// Inside each module folder (`store/`, `web/`, …), the files' `super::file` imports form no
/// circle (the outbox and runs once imported each other, and the error page, the pages, the
/// parameters and the questions went round in a circle).
#[test]
fn no_import_circle_inside_a_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut circles = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let module = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut files = BTreeSet::new();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "rs") {
                files.insert(path.file_stem().unwrap().to_string_lossy().to_string());
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for name in files.iter().filter(|name| *name != "mod" && *name != "tests") {
            let code = code_of(&std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap());
            for prefix in ["super::".to_string(), format!("crate::{module}::")] {
                for target in names_after(&code, &prefix) {
                    if files.contains(&target) && target != "mod" && &target != name {
                        graph.entry(name.clone()).or_default().insert(target);
                    }
                }
            }
        }
        for name in graph.keys() {
            if reaches(&graph, name, name, &mut BTreeSet::new()) {
                circles.push(format!("{module}/{name}"));
            }
        }
    }
    assert!(circles.is_empty(), "files on an import circle: {circles:?}");
}
