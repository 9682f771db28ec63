//! Compiles the shipped response templates into the binary: writes `responses.rs` in
//! `OUT_DIR`, a table of every file under `responses/` (its path relative to that directory,
//! with `/` separators, and its text through `include_str!`), so that a FAQ entry added there
//! needs no change to the code. Only templates (`.j2`) and indexes (`.toml`) are taken; hidden
//! files (an editor's) are left out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("responses");
    println!("cargo:rerun-if-changed=responses");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let name = file
            .strip_prefix(&root)
            .expect("under responses/")
            .components()
            .map(|c| c.as_os_str().to_str().expect("a UTF-8 file name"))
            .collect::<Vec<_>>()
            .join("/");
        let path = file.to_str().expect("a UTF-8 path");
        writeln!(table, "    ({name:?}, include_str!({path:?})),").unwrap();
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set"));
    std::fs::write(out.join("responses.rs"), table).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{} cannot be read: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let text = path.extension().is_some_and(|e| e == "j2" || e == "toml");
        if hidden {
            continue;
        } else if path.is_dir() {
            collect(&path, files);
        } else if text {
            files.push(path);
        }
    }
}
