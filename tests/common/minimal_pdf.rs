//! Minimal PDFs written byte by byte, for the PDF input of `reports draft`: no third-party
//! file, no PDF library. Included with `#[path]` by `src/draft/pdf.rs`'s tests and by
//! `tests/it/draft.rs` (which also checks `tests/fixtures/draft/*.pdf` are what these write).
//!
//! Layout: A4 pages (595 × 842 pt), 10 pt text from the top left (50, 800), one line per
//! 14 pt, a blank line as one more 14 pt step (the extractor starts a new line when the text
//! moves left and down, and adds a blank line when it drops more than 1.5 lines), 54 line
//! steps a page. A tab is a 20 pt gap on the page (the extractor writes a space there).
#![allow(dead_code)]

use std::fmt::Write as _;

const TOP: i32 = 800;
const LEFT: i32 = 50;
const STEP: i32 = 14;
const SIZE: i32 = 10;
const STEPS_PER_PAGE: usize = 54;
const TAB_GAP: i32 = 20;

/// A one-font document whose pages draw `lines` (ASCII only) in Helvetica, one `Tj` a line.
pub fn helvetica(lines: &[&str]) -> Vec<u8> {
    let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec();
    let show = |segment: &str| {
        assert!(segment.is_ascii(), "Helvetica pages take ASCII text: {segment:?}");
        let escaped = segment.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        // Helvetica's widths average about half an em: the advance only needs to be roughly right.
        (format!("({escaped})"), segment.len() as i32 * SIZE / 2)
    };
    document(vec![font], &lines.join("\n"), show)
}

/// A document whose pages draw `text` in a Type0 font (Identity-H: two-byte codes that are the
/// glyph ids) with a ToUnicode map, as Chinese reports embed their fonts: each distinct
/// character gets the next code from 1, and the map sends it back to its character.
pub fn cjk(text: &str) -> Vec<u8> {
    type0(text, true)
}

/// [`cjk`] without the ToUnicode map: the codes mean nothing to an extractor.
pub fn cjk_without_unicode_map(text: &str) -> Vec<u8> {
    type0(text, false)
}

fn type0(text: &str, unicode_map: bool) -> Vec<u8> {
    let mut codes: Vec<char> = Vec::new();
    for c in text.chars().filter(|&c| c != '\n' && c != '\t') {
        if !codes.contains(&c) {
            codes.push(c);
        }
    }
    let code_of = |c: char| codes.iter().position(|&x| x == c).map(|i| i + 1).unwrap();
    // Objects 3 to 6: the font, its CID font, the descriptor, the map (numbered as written).
    let to_unicode = if unicode_map { " /ToUnicode 6 0 R" } else { "" };
    let font =
        format!("<< /Type /Font /Subtype /Type0 /BaseFont /ReportSans /Encoding /Identity-H /DescendantFonts [4 0 R]{to_unicode} >>");
    let cid_font = "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ReportSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 1000 /CIDToGIDMap /Identity >>";
    let descriptor = "<< /Type /FontDescriptor /FontName /ReportSans /Flags 4 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>";
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for (n, chunk) in codes.chunks(100).enumerate() {
        let first = n * 100 + 1;
        writeln!(cmap, "{} beginbfchar", chunk.len()).unwrap();
        for (i, c) in chunk.iter().enumerate() {
            let utf16: String = c.encode_utf16(&mut [0; 2]).iter().map(|unit| format!("{unit:04X}")).collect();
            writeln!(cmap, "<{:04X}> <{utf16}>", first + i).unwrap();
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let mut objects = vec![font.into_bytes(), cid_font.as_bytes().to_vec(), descriptor.as_bytes().to_vec()];
    objects.push(if unicode_map { stream(cmap.as_bytes()) } else { b"null".to_vec() });
    let show = |segment: &str| {
        let hex: String = segment.chars().map(|c| format!("{:04X}", code_of(c))).collect();
        (format!("<{hex}>"), segment.chars().count() as i32 * SIZE)
    };
    document(objects, text, show)
}

/// Catalog (1), page tree (2), the font objects from 3 (the first is `/F1`), then each page
/// and its content stream. `show` gives a segment's `Tj` operand and its advance in points.
fn document(font_objects: Vec<Vec<u8>>, text: &str, show: impl Fn(&str) -> (String, i32)) -> Vec<u8> {
    let mut pages: Vec<String> = vec![String::new()];
    let mut steps = 0;
    for line in text.lines() {
        if line.is_empty() {
            steps += 1; // a blank line: one more step down before the next line
            continue;
        }
        if steps >= STEPS_PER_PAGE {
            pages.push(String::new());
            steps = 0;
        }
        let y = TOP - STEP * steps as i32;
        let content = pages.last_mut().unwrap();
        let mut x = LEFT;
        for (i, segment) in line.split('\t').enumerate() {
            if i > 0 {
                x += TAB_GAP;
            }
            if segment.is_empty() {
                continue;
            }
            let (operand, advance) = show(segment);
            writeln!(content, "BT /F1 {SIZE} Tf 1 0 0 1 {x} {y} Tm {operand} Tj ET").unwrap();
            x += advance;
        }
        steps += 1;
    }
    let first_page = 3 + font_objects.len();
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes(),
    ];
    objects.extend(font_objects);
    for (i, content) in pages.iter().enumerate() {
        let page = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            first_page + 2 * i + 1
        );
        objects.push(page.into_bytes());
        objects.push(stream(content.as_bytes()));
    }
    assemble(&objects)
}

fn stream(data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// Header, the numbered objects, the cross-reference table with each object's byte offset,
/// the trailer.
fn assemble(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        writeln!(table, "{offset:010} 00000 n ").unwrap();
    }
    write!(table, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).unwrap();
    out.extend_from_slice(table.as_bytes());
    out
}
