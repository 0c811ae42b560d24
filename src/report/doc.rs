//! A small document model shared by the human formats: each report is built once as blocks,
//! then written as a terminal table (comfy-table, which measures CJK text by display width),
//! GitHub markdown, or one self-contained HTML page.

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

/// One piece of a rendered report.
pub enum Block {
    Heading(String),
    Text(String),
    Table(Grid),
    Bullets(Vec<String>),
    /// The closing method statement, set apart from what precedes it.
    Method(String),
    /// An inline SVG; only the HTML page shows it (a terminal or markdown reader gets the
    /// same numbers in the tables).
    Chart(String),
}

/// A table: a header, rows of cells, and which columns hold numbers (right-aligned).
pub struct Grid {
    pub header: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// HTML only: where each row's first cell links to (the dashboard's ledger rows link to
    /// their report), one entry per row.
    pub links: Vec<Option<String>>,
    /// HTML only: on a narrow screen each row becomes a card of labelled cells, so a phone
    /// shows every column of it without scrolling sideways (the sector and ledger tables).
    pub cards: bool,
}

impl Grid {
    /// `columns` pairs each header with whether the column is numeric.
    pub fn new(columns: &[(&str, bool)]) -> Grid {
        Grid {
            header: columns.iter().map(|(name, _)| name.to_string()).collect(),
            numeric: columns.iter().map(|(_, numeric)| *numeric).collect(),
            rows: Vec::new(),
            links: Vec::new(),
            cards: false,
        }
    }

    /// This table as cards on a narrow screen (see [`Grid::cards`]).
    pub fn into_cards(mut self) -> Grid {
        self.cards = true;
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.row_linked(cells, None);
    }

    /// A row whose first cell links to `href` in HTML.
    pub fn row_linked(&mut self, cells: Vec<String>, href: Option<String>) {
        debug_assert_eq!(cells.len(), self.header.len(), "a row has one cell per column");
        self.rows.push(cells);
        self.links.push(href);
    }
}

pub struct Document {
    pub title: String,
    /// The answer the document leads with ([`super::Headline`]): its first line in a terminal
    /// and in markdown, a coloured badge above the title in HTML.
    pub headline: Option<(String, super::State)>,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn new(title: impl Into<String>) -> Document {
        Document { title: title.into(), headline: None, blocks: Vec::new() }
    }

    pub fn lead(&mut self, headline: &super::Headline) {
        self.headline = Some((headline.text.clone(), headline.state));
    }

    pub fn heading(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Heading(text.into()));
    }

    pub fn text(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Text(text.into()));
    }

    pub fn table(&mut self, grid: Grid) {
        self.blocks.push(Block::Table(grid));
    }

    pub fn bullets(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::Bullets(items));
        }
    }

    /// The one-line method statement every human-readable output ends with.
    pub fn method(&mut self, text: &str) {
        self.blocks.push(Block::Method(format!("Method: {text}")));
    }

    pub fn chart(&mut self, svg: String) {
        self.blocks.push(Block::Chart(svg));
    }

    /// Plain text for a terminal: the title underlined, tables drawn with box characters,
    /// each fitted to `width` columns when given (cells wrap, so a table on an 80-column
    /// terminal does not wrap mid-border), at full width when `None` (a pipe or a file).
    pub fn to_terminal_within(&self, width: Option<u16>) -> String {
        let mut out = String::new();
        if let Some((headline, _)) = &self.headline {
            out.push_str(headline);
            out.push_str("\n\n");
        }
        out.push_str(&self.title);
        out.push('\n');
        out.push_str(&"=".repeat(unicode_width::UnicodeWidthStr::width(self.title.as_str()).max(3)));
        out.push('\n');
        for block in &self.blocks {
            match block {
                Block::Heading(text) => {
                    out.push('\n');
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Text(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Method(text) => {
                    out.push('\n');
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Table(grid) => {
                    out.push_str(&terminal_table(grid, width));
                    out.push('\n');
                }
                Block::Bullets(items) => {
                    for item in items {
                        out.push_str("- ");
                        out.push_str(item);
                        out.push('\n');
                    }
                }
                Block::Chart(_) => {}
            }
        }
        out
    }

    /// GitHub-flavoured markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = match &self.headline {
            Some((headline, _)) => format!("**{}**\n\n", markdown_inline(headline)),
            None => String::new(),
        };
        out.push_str(&format!("# {}\n", markdown_inline(&self.title)));
        for block in &self.blocks {
            if matches!(block, Block::Chart(_)) {
                continue;
            }
            out.push('\n');
            match block {
                Block::Heading(text) => {
                    out.push_str("## ");
                    out.push_str(&markdown_inline(text));
                    out.push('\n');
                }
                Block::Text(text) | Block::Method(text) => {
                    out.push_str(&markdown_inline(text));
                    out.push('\n');
                }
                Block::Table(grid) => out.push_str(&markdown_table(grid)),
                Block::Bullets(items) => {
                    for item in items {
                        out.push_str("- ");
                        out.push_str(&markdown_inline(item));
                        out.push('\n');
                    }
                }
                Block::Chart(_) => {}
            }
        }
        out
    }

    /// One self-contained HTML page: inline CSS, inline SVG, no external assets.
    pub fn to_html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
            title = html_escape(&self.title),
            body = self.to_html_body(),
        )
    }

    /// What [`Document::to_html`] puts inside `<main>`: the same markup, for embedding in
    /// another page (the web dashboard) without a second renderer.
    pub fn to_html_body(&self) -> String {
        let mut body = match &self.headline {
            Some((headline, state)) => badge(headline, *state, None),
            None => String::new(),
        };
        body.push_str(&format!("<h1>{}</h1>\n", html_escape(&self.title)));
        for block in &self.blocks {
            match block {
                Block::Heading(text) => body.push_str(&format!("<h2>{}</h2>\n", html_escape(text))),
                Block::Text(text) => body.push_str(&format!("<p>{}</p>\n", html_escape(text))),
                Block::Method(text) => body.push_str(&format!("<p class=\"method\">{}</p>\n", html_escape(text))),
                Block::Table(grid) => body.push_str(&html_table(grid)),
                Block::Bullets(items) => {
                    body.push_str("<ul>\n");
                    for item in items {
                        body.push_str(&format!("<li>{}</li>\n", html_escape(item)));
                    }
                    body.push_str("</ul>\n");
                }
                // The SVG comes from our own chart renderer (plotters escapes its text), so it
                // is embedded as markup.
                Block::Chart(svg) => body.push_str(&format!("<figure class=\"chart\">\n{}\n</figure>\n", svg.trim())),
            }
        }
        body
    }
}

/// The headline's badge block, `<p class="headline holds">…</p>` and a newline; `prefix`
/// (already HTML) goes before the escaped text.
pub fn badge(text: &str, state: super::State, prefix: Option<&str>) -> String {
    format!("<p class=\"headline {}\">{}{}</p>\n", badge_class(state), prefix.unwrap_or(""), html_escape(text))
}

/// The badge's colour class: green when the rating holds (finally or so far), red when it
/// does not, grey before the first close.
fn badge_class(state: super::State) -> &'static str {
    match state.holds() {
        Some(true) => "holds",
        Some(false) => "fails",
        None => "open",
    }
}

/// Inline CSS. The font stack names CJK fonts common on Linux, macOS and Windows so Chinese
/// labels render in a proper face wherever the file is opened.
pub const STYLE: &str = r#"body { margin: 0; background: #fafafa; color: #1a1a1a;
  font-family: -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  font-size: 15px; line-height: 1.5; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p { margin: 4px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; white-space: nowrap; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure.chart { margin: 16px 0; overflow-x: auto; }
figure.chart svg { width: 100%; max-width: 760px; height: auto; }
figure.chart svg text { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
ul { margin: 4px 0; padding-left: 22px; }
p.method { margin-top: 24px; color: #555; font-size: 13px; }
p.headline { margin: 0 0 16px; padding: 10px 14px; border-radius: 6px; font-size: 17px; font-weight: 600; border-left: 6px solid; }
p.headline.holds { background: #e6f4ea; border-color: #1e8e3e; color: #0d652d; }
p.headline.fails { background: #fce8e6; border-color: #d93025; color: #a50e0e; }
p.headline.open { background: #f1f3f4; border-color: #80868b; color: #3c4043; }
@media (max-width: 600px) {
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; }
  table.cards { border: 0; overflow: visible; }
  table.cards thead { display: none; }
  table.cards tr { border: 1px solid #ddd; border-radius: 4px; margin: 0 0 8px; padding: 4px 8px; background: #fff; }
  table.cards td { border: 0; padding: 1px 0; white-space: normal; text-align: left; }
  table.cards td:first-child { font-weight: 600; }
  table.cards td:not(:first-child)::before { content: attr(data-label) ": "; color: #666; }
}
"#;

/// Lays `table` out within `width` display columns (cells wrap, CJK measured by width), or
/// at its full width when `None`: the text then does not depend on the terminal.
pub(crate) fn fit(table: &mut Table, width: Option<u16>) {
    match width {
        Some(width) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(width);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
}

fn terminal_table(grid: &Grid, width: Option<u16>) -> String {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    fit(&mut table, width);
    table.set_header(grid.header.clone());
    for row in &grid.rows {
        table.add_row(row.clone());
    }
    for (index, numeric) in grid.numeric.iter().enumerate() {
        if *numeric && let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table.to_string()
}

fn markdown_table(grid: &Grid) -> String {
    let cells = |row: &[String]| row.iter().map(|cell| markdown_cell(cell)).collect::<Vec<_>>().join(" | ");
    let rule = grid.numeric.iter().map(|numeric| if *numeric { "---:" } else { "---" }).collect::<Vec<_>>().join(" | ");
    let mut out = format!("| {} |\n| {rule} |\n", cells(&grid.header));
    for row in &grid.rows {
        out.push_str(&format!("| {} |\n", cells(row)));
    }
    out
}

/// Escapes what would break a table cell or turn text into markup.
fn markdown_cell(text: &str) -> String {
    markdown_inline(text).replace('|', "\\|").replace('\n', "<br>")
}

/// Escapes what would turn text into markup (a message's markdown shares it).
pub(super) fn markdown_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn html_table(grid: &Grid) -> String {
    let mut out = String::from(if grid.cards { "<table class=\"cards\">\n<thead><tr>" } else { "<table>\n<thead><tr>" });
    for (header, numeric) in grid.header.iter().zip(&grid.numeric) {
        out.push_str(&format!("<th{}>{}</th>", if *numeric { " class=\"num\"" } else { "" }, html_escape(header)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (row, link) in grid.rows.iter().zip(&grid.links) {
        out.push_str("<tr>");
        for (index, ((cell, numeric), header)) in row.iter().zip(&grid.numeric).zip(&grid.header).enumerate() {
            // A cell's lines (the best and worst members) stay lines.
            let mut cell = html_escape(cell).replace('\n', "<br>");
            if let (0, Some(href)) = (index, link) {
                cell = format!("<a href=\"{}\">{cell}</a>", html_escape(href));
            }
            let class = if *numeric { " class=\"num\"" } else { "" };
            let label = if grid.cards { format!(" data-label=\"{}\"", html_escape(header)) } else { String::new() };
            out.push_str(&format!("<td{class}{label}>{cell}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut doc = Document::new("标题 <a|b>");
        doc.heading("芯片算力 chips & compute");
        let mut grid = Grid::new(&[("name", false), ("return", true)]);
        grid.row(vec!["海光信息 a|b".to_string(), "+1.00 %".to_string()]);
        grid.row(vec!["two\nlines".to_string(), "1".to_string()]);
        doc.table(grid);
        doc.bullets(vec!["warn *x*".to_string()]);
        doc.chart("<svg></svg>".to_string());
        doc
    }

    #[test]
    fn markdown_escapes_pipes_and_markup_and_aligns_numbers() {
        let markdown = sample().to_markdown();
        assert!(markdown.starts_with("# 标题 \\<a|b\\>\n"), "{markdown}");
        assert!(markdown.contains("| name | return |\n| --- | ---: |\n| 海光信息 a\\|b | +1.00 % |\n| two<br>lines | 1 |\n"), "{markdown}");
        assert!(markdown.contains("- warn \\*x\\*\n"), "{markdown}");
        assert!(!markdown.contains("<svg"), "the chart is only for HTML");
    }

    #[test]
    fn html_escapes_text_and_embeds_the_chart() {
        let html = sample().to_html();
        assert!(html.contains("<title>标题 &lt;a|b&gt;</title>"));
        assert!(html.contains("<td>海光信息 a|b</td><td class=\"num\">+1.00 %</td>"));
        assert!(html.contains("<td>two<br>lines</td>"));
        assert!(html.contains("<figure class=\"chart\">\n<svg></svg>\n</figure>"));
        assert!(html.contains("<meta charset=\"utf-8\">") && html.contains("lang=\"zh-CN\""));
    }

    #[test]
    fn a_card_table_labels_each_cell_with_its_header_for_the_phone_layout() {
        let mut grid = Grid::new(&[("sector", false), ("excess <pp>", true)]).into_cards();
        grid.row(vec!["通信".to_string(), "+36.01 pp".to_string()]);
        let html = html_table(&grid);
        assert!(html.starts_with("<table class=\"cards\">"), "{html}");
        assert!(
            html.contains("<td data-label=\"sector\">通信</td><td class=\"num\" data-label=\"excess &lt;pp&gt;\">+36.01 pp</td>"),
            "{html}"
        );
        // A plain table has no labels, and the stylesheet lays only `.cards` out as cards.
        let mut plain = Grid::new(&[("sector", false)]);
        plain.row(vec!["通信".to_string()]);
        assert!(html_table(&plain).contains("<table>\n") && !html_table(&plain).contains("data-label"));
        assert!(STYLE.contains("table.cards td:not(:first-child)::before { content: attr(data-label)"));
    }

    #[test]
    fn terminal_right_aligns_numbers_and_measures_cjk_by_width() {
        let mut grid = Grid::new(&[("name", false), ("n", true)]);
        grid.row(vec!["海光".to_string(), "1".to_string()]);
        grid.row(vec!["abcd".to_string(), "100".to_string()]);
        let text = terminal_table(&grid, None);
        // 海光 is two characters of display width 2 each: the same width as `abcd`, so the
        // column borders line up on both rows.
        let lines: Vec<&str> = text.lines().collect();
        let widths: Vec<usize> = lines.iter().map(|line| unicode_width::UnicodeWidthStr::width(*line)).collect();
        assert!(widths.iter().all(|width| *width == widths[0]), "{text}");
        assert!(text.contains("┆   1 │") && text.contains("┆ 100 │"), "{text}");
    }

    #[test]
    fn a_table_fits_the_width_it_is_given_and_keeps_its_full_width_without_one() {
        let mut grid = Grid::new(&[("sector", false), ("excess", true)]);
        // 20 CJK characters: display width 40, plus 20 of ASCII: a 60-column cell.
        let long = format!("{}{}", "深度学习框架".repeat(3) + "芯片", "x".repeat(20));
        grid.row(vec![long.clone(), "+24.40 pp".to_string()]);
        let width = |text: &str| text.lines().map(unicode_width::UnicodeWidthStr::width).max().unwrap_or(0);
        // Full width: the cell (60) + the number (9) + borders and padding (7) = 76 columns.
        let full = terminal_table(&grid, None);
        assert_eq!(width(&full), 76, "{full}");
        // Within 50 columns the name wraps and the number stays whole on the first line.
        let fitted = terminal_table(&grid, Some(50));
        assert!(width(&fitted) <= 50, "{fitted}");
        assert!(fitted.contains("+24.40 pp"), "{fitted}");
        assert!(fitted.lines().count() > full.lines().count(), "{fitted}");
    }
}
