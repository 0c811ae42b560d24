//! Rendering of verdicts, weekly summaries and the ledger; `write_weekly_files`; the
//! `verdict` and `report` commands through the real binary.

mod fixtures;

use ratingwatch::report::{Format, render_verdict, render_weekly};

#[test]
fn scratch_dump() {
    let dir = std::path::Path::new("/tmp/render-scratch");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("verdict.html"), render_verdict(&fixtures::verdict(), Format::Html)).unwrap();
    std::fs::write(dir.join("weekly.html"), render_weekly(&fixtures::weekly(), Format::Html)).unwrap();
    std::fs::write(dir.join("verdict.txt"), render_verdict(&fixtures::verdict(), Format::Table)).unwrap();
    std::fs::write(dir.join("verdict.md"), render_verdict(&fixtures::pending_verdict(), Format::Markdown)).unwrap();
    std::fs::write(dir.join("weekly.txt"), render_weekly(&fixtures::weekly(), Format::Table)).unwrap();
}
