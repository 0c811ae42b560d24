//! A report's PDF → its text, in-process (the `pdf-extract` crate, over `lopdf`).
//!
//! Pure: bytes in, text out; the caller reads the file and names it in errors. The extractor
//! panics on some malformed or unusual files (a font without widths, an unknown encoding); a
//! panic is caught here and becomes [`PdfError::Extractor`], with the panic's message kept out
//! of the terminal (see [`quietly`]). Text that comes out empty, or mostly replacement and
//! private-use characters (a font with no Unicode map), is refused rather than drafted from.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use unicode_normalization::UnicodeNormalization;

use crate::text::quote;

/// The header every PDF starts with (within its first kilobyte: some files carry a few
/// bytes of junk before it, which readers accept).
pub const MAGIC: &[u8] = b"%PDF-";

/// How far into a file the header is looked for.
const HEADER_WINDOW: usize = 1024;

/// Whether the bytes are a PDF: `%PDF-` within the first kilobyte, whatever the file's name.
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(HEADER_WINDOW)].windows(MAGIC.len()).any(|window| window == MAGIC)
}

/// Why a PDF gave no text to draft from. Each message follows the file's name: `X.pdf is
/// encrypted (…)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// The file does not parse as a PDF (truncated, corrupt, not a PDF after all).
    #[error("cannot be read as a PDF ({0}); is it complete?")]
    Corrupt(String),
    /// Encrypted with a password (a file encrypted only against editing opens without one).
    #[error("is encrypted ({0}); save an unencrypted copy (or its text) and draft that")]
    Encrypted(String),
    /// The extractor panicked: something in the file it cannot handle.
    #[error("made the PDF text extractor fail ({0}); convert it to text with another tool and draft the .txt")]
    Extractor(String),
    /// No text at all: a scanned (image-only) PDF, or fonts that map to nothing.
    #[error("holds no extractable text (a scanned PDF, or fonts without a Unicode map); OCR it to text and draft the .txt")]
    NoText,
    /// Text that is mostly undecodable characters: a font without a usable Unicode map.
    #[error(
        "has fonts that cannot be decoded: {bad} of {visible} characters are unreadable (e.g. {sample}); convert it to text with another tool and draft the .txt"
    )]
    Undecodable { bad: usize, visible: usize, sample: String },
}

/// More than this share of a text's visible characters unreadable means the fonts are not
/// decoded (a few stray symbols in a real report's text are tolerated).
const MAX_UNREADABLE_SHARE: f64 = 0.10;

/// The text of every page, in order, as the extractor lays it out (a line per text line, a
/// blank line where the text jumps down). Compatibility ideographs and radicals some CJK fonts
/// map to (`⾏` U+2F8F for 行) and ligatures (`ﬁ`) are folded to the ordinary characters;
/// control characters other than tab and newline are dropped.
pub fn text_of(bytes: &[u8]) -> Result<String, PdfError> {
    let raw = quietly(|| extract(bytes)).map_err(PdfError::Extractor)??;
    let text = tidy(&raw);
    check_readable(&text)?;
    Ok(text)
}

/// The document's text laid out by [`Layout`]. The reader opens an encrypted file with the
/// empty password when that works (files encrypted only against printing or editing) and
/// then drops `/Encrypt` from the trailer; one still there needs a password, and is refused.
fn extract(bytes: &[u8]) -> Result<String, PdfError> {
    let corrupt = |error: pdf_extract::Error| PdfError::Corrupt(quote(&error.to_string()));
    let mut document = pdf_extract::Document::load_mem(bytes).map_err(corrupt)?;
    if document.is_encrypted() {
        document.decrypt("").map_err(|error| PdfError::Encrypted(quote(&error.to_string())))?;
    }
    if document.trailer.get(b"Encrypt").is_ok() {
        return Err(PdfError::Encrypted("it does not open without a password".to_string()));
    }
    let mut layout = Layout::default();
    pdf_extract::output_doc(&document, &mut layout).map_err(|error| match error {
        pdf_extract::OutputError::PdfError(inner) => corrupt(inner),
        other => PdfError::Corrupt(quote(&other.to_string())),
    })?;
    Ok(layout.text)
}

/// Text from the characters the extractor places on each page, as the extractor's own plain
/// text output lays it out (a new line when a word starts left of where the last one ended
/// and lower, a blank line when it starts more than 1.5 lines lower, a space before a word
/// that starts a little to the right), except that a gap wider than one em on the same line
/// is a tab: the columns of a table come out tab-separated, as the table reader takes them.
#[derive(Default)]
struct Layout {
    text: String,
    /// The page height, to turn PDF coordinates (from the bottom) into distances down the page.
    height: f64,
    last_end: f64,
    last_y: f64,
    word_start: bool,
}

impl pdf_extract::OutputDev for Layout {
    fn begin_page(
        &mut self,
        _page: u32,
        media_box: &pdf_extract::MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), pdf_extract::OutputError> {
        self.height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &pdf_extract::Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), pdf_extract::OutputError> {
        // The text matrix's origin, y measured down from the top of the page.
        let (x, y) = (trm.m31, self.height - trm.m32);
        // The side of a square with the area of the transformed em (font size × scaling).
        let size = (font_size * (trm.m11 + trm.m21) * font_size * (trm.m12 + trm.m22)).abs().sqrt();
        if self.word_start && !self.text.is_empty() {
            let down = (y - self.last_y).abs();
            if down > size * 1.5 {
                self.text.push('\n');
            }
            if x < self.last_end && down > size * 0.5 {
                self.text.push('\n');
            } else if down <= size * 0.5 && x > self.last_end + size {
                self.text.push('\t');
            } else if x > self.last_end + size * 0.1 {
                self.text.push(' ');
            }
        }
        self.text.push_str(char);
        self.word_start = false;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), pdf_extract::OutputError> {
        self.word_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }
}

/// Folds characters CJK fonts' Unicode maps often give (Kangxi radicals, compatibility
/// ideographs, presentation-form ligatures) and drops control characters but `\t` and `\n`.
fn tidy(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\n' | '\t' => text.push(c),
            '\r' => {}
            c if c.is_control() => {}
            '\u{2E80}'..='\u{2FDF}' | '\u{F900}'..='\u{FAFF}' | '\u{FB00}'..='\u{FB4F}' => text.extend(c.nfkc()),
            c => text.push(c),
        }
    }
    text
}

/// Refuses text with nothing visible, or with more than [`MAX_UNREADABLE_SHARE`] of its
/// visible characters replacement (U+FFFD) or private-use characters.
fn check_readable(text: &str) -> Result<(), PdfError> {
    let unreadable = |c: char| c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c);
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    if visible == 0 {
        return Err(PdfError::NoText);
    }
    let bad = text.chars().filter(|&c| unreadable(c)).count();
    if bad as f64 > visible as f64 * MAX_UNREADABLE_SHARE {
        let sample: String = text.chars().filter(|&c| unreadable(c)).take(3).map(|c| format!("U+{:04X} ", c as u32)).collect();
        return Err(PdfError::Undecodable { bad, visible, sample: sample.trim_end().to_string() });
    }
    Ok(())
}

thread_local! {
    /// Set while [`quietly`] runs on this thread: the panic hook stays silent.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `f`, turning a panic into `Err(its message)`. While `f` runs, a panic on this
/// thread prints nothing: the panic hook is wrapped once, process-wide, by one that stays
/// silent on a thread inside `quietly` and otherwise calls the hook that was there before, so
/// other threads' panics (a failing test's, say) still print.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was_quiet = QUIET.with(|quiet| quiet.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(was_quiet));
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        quote(if message.is_empty() { "a panic without a message" } else { &message })
    })
}

#[cfg(test)]
#[path = "../../tests/common/minimal_pdf.rs"]
mod minimal_pdf;

#[cfg(test)]
mod tests {
    use super::*;

    use super::minimal_pdf;

    #[test]
    fn a_pdf_is_told_by_its_header_not_its_name() {
        assert!(is_pdf(b"%PDF-1.7\n..."));
        // A few bytes of junk before the header are accepted, as readers do.
        assert!(is_pdf(b"\xEF\xBB\xBF%PDF-1.4"));
        assert!(!is_pdf("相关标的：中国移动".as_bytes()));
        assert!(!is_pdf(b"%PD"));
        let mut late = vec![b' '; HEADER_WINDOW];
        late.extend_from_slice(MAGIC);
        assert!(!is_pdf(&late), "a header past the first kilobyte is text that mentions it");
    }

    #[test]
    fn a_helvetica_page_gives_its_lines() {
        let lines = ["Sector review: telecom operators", "Date: 2023-02-14", "", "Related: China Mobile (600941)"];
        let text = text_of(&minimal_pdf::helvetica(&lines)).unwrap();
        let got: Vec<&str> = text.lines().collect();
        assert_eq!(got, lines);
    }

    #[test]
    fn a_type0_identity_h_font_with_a_unicode_map_gives_chinese_text() {
        let text = "行业评级：增持\n\n相关标的：中国移动、中际旭创\t（算力）";
        let extracted = text_of(&minimal_pdf::cjk(text)).unwrap();
        // The tab is a 20 pt gap on the page (two ems of 10 pt): it comes back as a tab.
        let got: Vec<&str> = extracted.lines().map(str::trim).collect();
        assert_eq!(got, ["行业评级：增持", "", "相关标的：中国移动、中际旭创\t（算力）"]);
    }

    #[test]
    fn truncated_and_garbage_files_are_named_errors_not_panics() {
        let whole = minimal_pdf::cjk("行业评级：增持");
        for bytes in [&whole[..whole.len() / 2], &b"%PDF-1.7\nnot a pdf at all\n%%EOF"[..], &whole[..40]] {
            let error = text_of(bytes).unwrap_err();
            assert!(matches!(error, PdfError::Corrupt(_) | PdfError::Extractor(_)), "{error:?}");
        }
    }

    #[test]
    fn an_encrypted_file_that_does_not_open_without_a_password_is_refused() {
        // The page with an /Encrypt dictionary in its trailer, of a security handler no reader
        // knows: the empty password cannot open it. (The trailer follows the cross-reference
        // table, so every offset stays right.)
        let mut bytes = minimal_pdf::cjk("行业评级：增持");
        let root = b"/Root 1 0 R";
        let at = bytes.windows(root.len()).rposition(|window| window == root).unwrap();
        bytes.splice(at..at, b"/Encrypt << /Filter /NoSuchHandler /V 9 /R 9 >> ".iter().copied());
        let error = text_of(&bytes).unwrap_err();
        assert!(matches!(error, PdfError::Encrypted(_)), "{error:?}");
        assert!(error.to_string().starts_with("is encrypted ("), "{error}");
    }

    #[test]
    fn a_font_without_a_unicode_map_is_refused() {
        // The same page without its ToUnicode map: every character decodes to nothing.
        let error = text_of(&minimal_pdf::cjk_without_unicode_map("行业评级：增持")).unwrap_err();
        assert_eq!(error, PdfError::NoText);
        // Mostly private-use characters (a font mapping to its own glyph codes): 4 of 5 unreadable.
        let error = check_readable("\u{E001}\u{E002}\u{E003}\u{E004}好").unwrap_err();
        assert!(matches!(error, PdfError::Undecodable { bad: 4, visible: 5, .. }), "{error:?}");
        assert!(error.to_string().contains("U+E001 U+E002 U+E003"), "{error}");
        // One stray symbol in 20 characters (5 %) is tolerated.
        assert_eq!(check_readable(&format!("{}\u{FFFD}", "好".repeat(19))), Ok(()));
    }

    #[test]
    fn radicals_ligatures_and_controls_are_tidied() {
        // ⾏ (U+2F8F, KANGXI RADICAL WALK) is 行; ﬁ is fi; a NUL and a carriage return go.
        assert_eq!(tidy("⾏业\u{0}评级\r\n\tﬁnal"), "行业评级\n\tfinal");
    }

    #[test]
    fn a_panic_inside_is_caught_with_its_message() {
        assert_eq!(quietly(|| 7), Ok(7));
        let caught = quietly(|| -> u8 { panic!("missing width for 42") });
        assert_eq!(caught, Err("missing width for 42".to_string()));
        // The thread is loud again afterwards.
        assert!(!QUIET.with(Cell::get));
    }
}
