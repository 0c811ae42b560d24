//! The chart: cumulative excess return of each sector (and the basket) against the benchmark
//! from the report date, with the rating rule's bands and the horizon end marked.
//!
//! Drawn with plotters' SVG backend and no font library. plotters then estimates text width
//! from UTF-8 bytes, which lays CJK text out about twice too wide, so no CJK text is placed by
//! plotters' layout: the names go in a legend drawn here at fixed positions, left-aligned, and
//! the caption is ASCII-or-CJK text anchored at its start, where a wrong width estimate costs
//! nothing.
//!
//! The canvas is narrow (600 px) with the legend in two columns under the plot, so a phone
//! (about 360 px of page) shows it at 0.6 of its size, every label still readable, and the
//! email's PNG of it the same; a desktop page shows it up to 760 px wide.

use chrono::{Days, NaiveDate};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::numbers;
use crate::analysis::model::NamedPath;
use crate::catalog::Boundary;

/// The font stack written into the SVG: CJK faces first so Chinese names render properly in
/// any viewer; the HTML page repeats it in CSS.
const FONTS: &str = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif";
const WIDTH: u32 = 600;
/// The caption and the plot, above the legend.
const PLOT_HEIGHT: u32 = 400;
/// One legend row (two entries side by side), and the space above and below the rows.
const LEGEND_ROW: u32 = 28;
const LEGEND_PADDING: u32 = 14;
const LEGEND_COLUMNS: usize = 2;

/// The canvas height: the plot and as many legend rows as `entries` need, plus one for the
/// "no trading day" note when there is no point to draw.
fn height(entries: usize, note: bool) -> u32 {
    let rows = (entries.div_ceil(LEGEND_COLUMNS) + usize::from(note)) as u32;
    PLOT_HEIGHT + 2 * LEGEND_PADDING + rows * LEGEND_ROW
}

/// Whether no path has a point yet (the legend then says why the chart is empty).
fn nothing_to_draw(spec: &ChartSpec) -> bool {
    spec.paths.iter().all(|path| path.points.is_empty())
}

/// Everything the chart shows.
pub struct ChartSpec<'a> {
    pub title: &'a str,
    pub benchmark_name: &'a str,
    pub report_date: NaiveDate,
    pub horizon_end: NaiveDate,
    pub paths: &'a [NamedPath],
    /// The path drawn heavier (the whole basket), by name.
    pub emphasised: Option<&'a str>,
    /// Where the rule's bands meet, from the top down: one dashed line each, labelled in the
    /// report's words (看好 ≥ +10 pp).
    pub boundaries: &'a [Boundary],
}

/// Sector colours: distinct, readable on white, none of them the basket's black.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
const BAND_UP: RGBColor = RGBColor(200, 40, 40);
const BAND_DOWN: RGBColor = RGBColor(30, 130, 60);
const GRID: RGBColor = RGBColor(120, 120, 120);

/// The chart as one `<svg>` element.
pub fn chart_svg(spec: &ChartSpec) -> String {
    let mut svg = String::new();
    // Drawing into a String cannot fail for lack of a font or a file; if plotters still
    // reports an error, the page says so instead of showing a broken image.
    if let Err(error) = draw(spec, &mut svg) {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\"><text x=\"8\" y=\"24\">chart unavailable: {}</text></svg>",
            super::doc::html_escape(&error)
        );
    }
    svg
}

fn draw(spec: &ChartSpec, svg: &mut String) -> Result<(), String> {
    let fail = |error: &dyn std::fmt::Display| error.to_string();
    let root = SVGBackend::with_string(svg, (WIDTH, height(spec.paths.len(), nothing_to_draw(spec)))).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (plot_area, legend_area) = root.split_vertically(PLOT_HEIGHT);

    let (x_start, x_end) = x_range(spec);
    let (y_low, y_high) = y_range(spec);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(58)
        .margin_left(4)
        .margin_right(14)
        .margin_bottom(4)
        .x_label_area_size(34)
        .y_label_area_size(44)
        .build_cartesian_2d(plotters::coord::types::RangedDate::from(x_start..x_end), y_low..y_high)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .axis_style(GRID)
        .x_labels(4)
        .y_labels(8)
        .x_label_formatter(&|date| date.format("%Y-%m-%d").to_string())
        .y_label_formatter(&|value| if value.abs() < 0.5 { "0".to_string() } else { format!("{value:+.0}") })
        .label_style((FONTS, 15))
        .y_desc("pp")
        .axis_desc_style((FONTS, 15))
        .draw()
        .map_err(|e| fail(&e))?;

    // The caption, anchored at its left end so its true width does not matter.
    let title_style = TextStyle::from((FONTS, 20).into_font()).color(&BLACK);
    root.draw_text(spec.title, &title_style, (10, 8)).map_err(|e| fail(&e))?;
    let subtitle = format!("excess vs {} since {}, pp", spec.benchmark_name, spec.report_date);
    root.draw_text(&subtitle, &TextStyle::from((FONTS, 15).into_font()).color(&GRID), (10, 34)).map_err(|e| fail(&e))?;

    draw_reference_lines(spec, &mut chart, x_start, x_end, y_low, y_high).map_err(|e| fail(&e))?;

    let mut legend_rows = Vec::new();
    let mut colour_index = 0;
    for path in spec.paths {
        let emphasised = spec.emphasised == Some(path.name.as_str());
        let colour = if emphasised {
            BLACK
        } else {
            colour_index += 1;
            COLOURS[(colour_index - 1) % COLOURS.len()]
        };
        let width = if emphasised { 3 } else { 2 };
        let points: Vec<(NaiveDate, f64)> =
            std::iter::once((spec.report_date, 0.0)).chain(path.points.iter().map(|point| (point.date, point.excess * 100.0))).collect();
        chart.draw_series(LineSeries::new(points, colour.stroke_width(width))).map_err(|e| fail(&e))?;
        let last = path.points.last().map(|point| numbers::points(point.excess));
        legend_rows.push((path.name.clone(), last, colour, width));
    }

    draw_legend(&legend_area, spec, &legend_rows).map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

type DateChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<plotters::coord::types::RangedDate<NaiveDate>, RangedCoordf64>>;

/// The zero line, one dashed line per band boundary and the horizon end, each labelled.
fn draw_reference_lines(
    spec: &ChartSpec,
    chart: &mut DateChart,
    x_start: NaiveDate,
    x_end: NaiveDate,
    y_low: f64,
    y_high: f64,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    chart.draw_series(LineSeries::new([(x_start, 0.0), (x_end, 0.0)], GRID.stroke_width(1)))?;
    for boundary in spec.boundaries {
        let level = boundary.bp as f64 / 100.0;
        let colour = if upward(boundary) { BAND_UP } else { BAND_DOWN };
        chart.draw_series(DashedLineSeries::new([(x_start, level), (x_end, level)], 8, 5, colour.stroke_width(2)))?;
    }
    chart.draw_series(DashedLineSeries::new([(spec.horizon_end, y_low), (spec.horizon_end, y_high)], 6, 4, BLACK.stroke_width(2)))?;

    // Labels are placed in pixels a few points off their lines so that, whatever the glyphs'
    // real height, they never sit on a line: above a boundary at or over zero (naming the
    // band above it), below one under zero (naming the band below), and left of the horizon.
    let area = chart.plotting_area();
    let pixel = |x: NaiveDate, y: f64| chart.backend_coord(&(x, y));
    let label_style =
        |colour: &'static RGBColor, h: HPos, v: VPos| TextStyle::from((FONTS, 15).into_font()).color(colour).pos(Pos::new(h, v));
    let (horizon_x, top) = pixel(spec.horizon_end, y_high);
    let root = area.strip_coord_spec();
    let (origin_x, origin_y) = area.get_base_pixel();
    let local = |(x, y): (i32, i32)| (x - origin_x, y - origin_y);
    for boundary in spec.boundaries {
        let (left, y) = pixel(x_start, boundary.bp as f64 / 100.0);
        let text = boundary_text(boundary);
        if upward(boundary) {
            root.draw_text(&text, &label_style(&BAND_UP, HPos::Left, VPos::Bottom), local((left + 6, y - 5)))?;
        } else {
            root.draw_text(&text, &label_style(&BAND_DOWN, HPos::Left, VPos::Top), local((left + 6, y + 6)))?;
        }
    }
    let horizon_text = format!("horizon end {}", spec.horizon_end);
    root.draw_text(&horizon_text, &label_style(&BLACK, HPos::Right, VPos::Top), local((horizon_x - 6, top + 6)))?;
    Ok(())
}

/// A boundary at or above zero is drawn as the band above it begins; one below zero as the
/// band below it begins.
fn upward(boundary: &Boundary) -> bool {
    boundary.bp >= 0
}

/// `看好 ≥ +10 pp`, `增持 > +5 pp`, `看淡 ≤ -10 pp`: the outer band and where it starts.
pub fn boundary_text(boundary: &Boundary) -> String {
    let value = numbers::threshold(boundary.bp);
    if upward(boundary) {
        format!("{} {} {value}", boundary.above.zh, if boundary.belongs_above { "≥" } else { ">" })
    } else {
        format!("{} {} {value}", boundary.below.zh, if boundary.belongs_above { "<" } else { "≤" })
    }
}

/// The legend, under the plot in two columns: a line sample, the latest excess (ASCII, so
/// its estimated width is right) and then the name, so a long CJK name only runs on into its
/// own column's space; the page reads without hovering.
fn draw_legend(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    spec: &ChartSpec,
    rows: &[(String, Option<String>, RGBColor, u32)],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let name_style = TextStyle::from((FONTS, 16).into_font()).color(&BLACK);
    let value_style = TextStyle::from((FONTS, 15).into_font()).color(&GRID);
    let column_width = (WIDTH / LEGEND_COLUMNS as u32) as i32;
    for (index, (name, last, colour, width)) in rows.iter().enumerate() {
        let x = 10 + (index % LEGEND_COLUMNS) as i32 * column_width;
        let y = (LEGEND_PADDING + (index / LEGEND_COLUMNS) as u32 * LEGEND_ROW) as i32;
        area.draw(&PathElement::new([(x, y + 9), (x + 24, y + 9)], colour.stroke_width(*width)))?;
        area.draw_text(last.as_deref().unwrap_or("–"), &value_style, (x + 30, y + 1))?;
        area.draw_text(name, &name_style, (x + 108, y))?;
    }
    if nothing_to_draw(spec) {
        let y = (LEGEND_PADDING + rows.len().div_ceil(LEGEND_COLUMNS) as u32 * LEGEND_ROW) as i32;
        area.draw_text(&format!("no trading day after {} yet", spec.report_date), &value_style, (10, y + 1))?;
    }
    Ok(())
}

/// From the report date to a little past the later of the horizon end and the last point.
fn x_range(spec: &ChartSpec) -> (NaiveDate, NaiveDate) {
    let last_point = spec.paths.iter().filter_map(|path| path.points.last()).map(|point| point.date).max();
    let end = last_point.map_or(spec.horizon_end, |last| last.max(spec.horizon_end));
    let span = (end - spec.report_date).num_days().max(1) as u64;
    (spec.report_date, end.checked_add_days(Days::new(span / 40 + 2)).unwrap_or(end))
}

/// Wide enough for every point, zero and every boundary, with a margin, in percentage points.
fn y_range(spec: &ChartSpec) -> (f64, f64) {
    let values = spec.paths.iter().flat_map(|path| path.points.iter()).map(|point| point.excess * 100.0).filter(|value| value.is_finite());
    let levels = spec.boundaries.iter().map(|boundary| boundary.bp as f64 / 100.0);
    let (mut low, mut high) = levels.fold((0.0_f64, 0.0_f64), |(low, high), level| (low.min(level), high.max(level)));
    for value in values {
        low = low.min(value);
        high = high.max(value);
    }
    let margin = ((high - low) * 0.08).max(2.0);
    ((low - margin).floor(), (high + margin).ceil())
}
