//! Poster templates (`printables/*.svg`): their slots, and a template filled with one stall's
//! texts, fitted to their boxes with the real font, and its code drawn in the QR square.
//!
//! A text slot is `<text data-slot="NAME" x y data-width font-size data-min-size data-lines
//! font-weight text-anchor fill>…</text>` (`y`: first baseline; lines 1.2 × size apart); the QR
//! slot is `<rect data-slot="qr" x y width height>`, a square the code fills, quiet zone included.
//! See `printables/README.md`.

use std::fmt::Write as _;
use std::ops::Range;

use super::fit::{self, Fitted, TextBox};
use super::fonts::{FAMILY, Metrics};
use crate::qr::{QrMatrix, svg::path_data_into};

/// Line height, in font sizes.
pub const LINE_HEIGHT: f32 = 1.2;
/// Light modules around the code.
const QUIET_ZONE: usize = 4;

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Not well-formed XML.
    #[error("the template is not valid SVG: {0}")]
    Xml(String),
    /// A slot lacks an attribute or has a bad one.
    #[error("slot {slot}: attribute {attribute} is missing or not a number")]
    Attribute {
        /// The slot.
        slot: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// The page size is not in millimetres.
    #[error("the root <svg> needs width and height in mm and a viewBox")]
    PageSize,
}

/// A text slot.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSlot {
    /// Its name (`market`, `stall_code`, …).
    pub name: String,
    /// Anchor point: the box's centre (`middle`) or left edge (`start`).
    pub x: f32,
    /// First baseline.
    pub y: f32,
    /// The box.
    pub boxed: TextBox,
    /// `font-weight`.
    pub weight: u16,
    /// `text-anchor`.
    pub anchor: String,
    /// `fill`.
    pub fill: String,
}

/// The QR square.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QrSlot {
    /// Left.
    pub x: f32,
    /// Top.
    pub y: f32,
    /// Side.
    pub side: f32,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    /// Page width and height in millimetres.
    pub page_mm: (f32, f32),
    /// The text slots, in document order, with their place in the source.
    pub texts: Vec<(Range<usize>, TextSlot)>,
    /// The QR slots (one in the shipped templates).
    pub codes: Vec<(Range<usize>, QrSlot)>,
}

/// A text as laid out in its slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The slot.
    pub slot: TextSlot,
    /// How it was fitted.
    pub fitted: Fitted,
}

fn number(
    node: roxmltree::Node<'_, '_>,
    slot: &str,
    attribute: &'static str,
) -> Result<f32, TemplateError> {
    node.attribute(attribute)
        .and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|v| v.is_finite())
        .ok_or_else(|| TemplateError::Attribute {
            slot: slot.to_owned(),
            attribute,
        })
}

fn millimetres(value: Option<&str>) -> Option<f32> {
    value?.trim().strip_suffix("mm")?.parse().ok()
}

impl Template {
    /// Parses a template and finds its slots.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let document =
            roxmltree::Document::parse(source).map_err(|e| TemplateError::Xml(e.to_string()))?;
        let root = document.root_element();
        let page_mm = match (
            millimetres(root.attribute("width")),
            millimetres(root.attribute("height")),
        ) {
            (Some(w), Some(h)) if root.attribute("viewBox").is_some() => (w, h),
            _ => return Err(TemplateError::PageSize),
        };
        let mut texts = Vec::new();
        let mut codes = Vec::new();
        for node in root.descendants().filter(|n| n.is_element()) {
            let Some(name) = node.attribute("data-slot") else {
                continue;
            };
            if node.tag_name().name() == "rect" {
                let (width, height) = (number(node, name, "width")?, number(node, name, "height")?);
                codes.push((
                    node.range(),
                    QrSlot {
                        x: number(node, name, "x")?,
                        y: number(node, name, "y")?,
                        side: width.min(height),
                    },
                ));
                continue;
            }
            let size = number(node, name, "font-size")?;
            let lines = node
                .attribute("data-lines")
                .and_then(|v| v.trim().parse::<usize>().ok());
            texts.push((
                node.range(),
                TextSlot {
                    name: name.to_owned(),
                    x: number(node, name, "x")?,
                    y: number(node, name, "y")?,
                    boxed: TextBox {
                        width: number(node, name, "data-width")?,
                        size,
                        min_size: number(node, name, "data-min-size").unwrap_or(size),
                        lines: lines.unwrap_or(1).clamp(1, 6),
                    },
                    weight: node
                        .attribute("font-weight")
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(400),
                    anchor: node.attribute("text-anchor").unwrap_or("start").to_owned(),
                    fill: node.attribute("fill").unwrap_or("#000000").to_owned(),
                },
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            page_mm,
            texts,
            codes,
        })
    }

    /// The template with each text slot holding `text(name)` (empty when `None`) fitted to its
    /// box, and `code` in each QR square; also how each text was placed.
    pub fn fill<'a>(
        &self,
        text: impl Fn(&str) -> Option<&'a str>,
        code: &QrMatrix,
    ) -> (String, Vec<Placed>) {
        let mut pieces: Vec<(Range<usize>, String)> = Vec::new();
        let mut placed = Vec::new();
        for (range, slot) in &self.texts {
            let value = text(&slot.name).unwrap_or_default();
            let fitted = fit::fit(value, &slot.boxed, Metrics::for_weight(slot.weight));
            pieces.push((range.clone(), text_element(slot, &fitted)));
            placed.push(Placed {
                slot: slot.clone(),
                fitted,
            });
        }
        for (range, slot) in &self.codes {
            pieces.push((range.clone(), code_element(*slot, code)));
        }
        pieces.sort_by_key(|(range, _)| range.start);
        let mut out = String::with_capacity(self.source.len() + 16 * 1024);
        let mut at = 0;
        for (range, piece) in pieces {
            out.push_str(self.source.get(at..range.start).unwrap_or_default());
            out.push_str(&piece);
            at = range.end;
        }
        out.push_str(self.source.get(at..).unwrap_or_default());
        (out, placed)
    }
}

fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

fn text_element(slot: &TextSlot, fitted: &Fitted) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<text font-family="{FAMILY}" font-size="{:.2}" font-weight="{}" text-anchor=""#,
        fitted.size, slot.weight
    );
    escape(&mut out, &slot.anchor);
    out.push_str(r#"" fill=""#);
    escape(&mut out, &slot.fill);
    out.push_str(r#"">"#);
    let mut y = slot.y;
    for line in &fitted.lines {
        let _ = write!(out, r#"<tspan x="{:.2}" y="{y:.2}">"#, slot.x);
        escape(&mut out, line);
        out.push_str("</tspan>");
        y += fitted.size * LINE_HEIGHT;
    }
    out.push_str("</text>");
    out
}

fn code_element(slot: QrSlot, code: &QrMatrix) -> String {
    let modules = code.width() + 2 * QUIET_ZONE;
    let side = u16::try_from(modules).map_or(1.0, f32::from);
    let scale = slot.side / side;
    let mut out = String::with_capacity(code.width() * code.width() * 4);
    let _ = write!(
        out,
        r##"<g transform="translate({:.3} {:.3}) scale({scale:.5})"><rect width="{modules}" height="{modules}" fill="#FFFFFF"/><path fill="#000000" shape-rendering="crispEdges" d=""##,
        slot.x, slot.y
    );
    path_data_into(&mut out, code, QUIET_ZONE);
    out.push_str(r#""/></g>"#);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::EcLevel;

    const TEMPLATE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="100mm" height="150mm" viewBox="0 0 1000 1500"><rect width="1000" height="1500" fill="#fff"/><text data-slot="vendor" x="500" y="200" data-width="800" font-size="80" data-min-size="40" data-lines="2" font-weight="700" text-anchor="middle" fill="#000000">Mẫu</text><rect data-slot="qr" x="100" y="400" width="800" height="800" fill="#FFFFFF"/></svg>"##;

    #[test]
    fn slots_are_found_and_filled() {
        let template = Template::parse(TEMPLATE).unwrap();
        assert_eq!(template.page_mm, (100.0, 150.0));
        assert_eq!(template.texts.len(), 1);
        assert_eq!(template.codes.len(), 1);
        let code = QrMatrix::encode(b"hello", EcLevel::Q).unwrap();
        let (svg, placed) =
            template.fill(|name| (name == "vendor").then_some("Bà <Tư> & con"), &code);
        assert!(svg.contains("Bà &lt;Tư&gt; &amp; con"), "{svg}");
        assert!(!svg.contains("Mẫu") && !svg.contains("data-slot"));
        assert!(svg.contains(r#"<g transform="translate(100.000 400.000)"#));
        assert_eq!(placed.len(), 1);
        roxmltree::Document::parse(&svg).unwrap();
    }

    #[test]
    fn a_slot_without_its_box_is_an_error_that_names_it() {
        let broken = TEMPLATE.replace(r#" data-width="800""#, "");
        assert_eq!(
            Template::parse(&broken).unwrap_err(),
            TemplateError::Attribute {
                slot: "vendor".into(),
                attribute: "data-width"
            }
        );
    }

    use super::super::fit::Measure;

    /// The shipped templates, by size.
    fn shipped() -> Vec<(crate::posters::PosterSize, &'static Template)> {
        crate::posters::PosterSize::ALL
            .map(|size| (size, size.template().unwrap()))
            .into()
    }

    /// A rectangle on the page, in user units (0.1 mm), and what it is.
    #[derive(Debug, Clone)]
    struct Area {
        what: String,
        left: f32,
        top: f32,
        right: f32,
        bottom: f32,
    }

    impl Area {
        fn overlaps(&self, other: &Self) -> bool {
            self.left < other.right
                && other.left < self.right
                && self.top < other.bottom
                && other.top < self.bottom
        }

        fn contains(&self, other: &Self) -> bool {
            self.left <= other.left
                && other.right <= self.right
                && self.top <= other.top
                && other.bottom <= self.bottom
        }
    }

    /// The font's ascent and descent in font sizes (both faces agree): 1.069 and 0.293.
    fn ascent_descent() -> (f32, f32) {
        let mut out = Vec::new();
        for data in [super::super::fonts::REGULAR, super::super::fonts::BOLD] {
            let face = ttf_parser::Face::parse(data, 0).unwrap();
            let em = f32::from(face.units_per_em());
            out.push((
                f32::from(face.ascender()) / em,
                -f32::from(face.descender()) / em,
            ));
        }
        assert_eq!(out[0], out[1]);
        assert_eq!(out[0], (1.069, 0.293));
        out[0]
    }

    /// Horizontal extent of a box of `width` anchored at `x`.
    fn span(anchor: &str, x: f32, width: f32) -> (f32, f32) {
        match anchor {
            "middle" => (x - width / 2.0, x + width / 2.0),
            "start" => (x, x + width),
            "end" => (x - width, x),
            other => panic!("text-anchor {other:?}"),
        }
    }

    /// The largest box a text slot can fill: `data-width` wide, from the first line's ascent to
    /// the last line's descent at `font-size` and `data-lines` (`printables/README.md`).
    fn reserved(slot: &TextSlot) -> Area {
        let (ascent, descent) = ascent_descent();
        let size = slot.boxed.size;
        let extra_lines = f32::from(u8::try_from(slot.boxed.lines - 1).unwrap());
        let (left, right) = span(&slot.anchor, slot.x, slot.boxed.width);
        Area {
            what: format!("slot {}", slot.name),
            left,
            top: slot.y - ascent * size,
            right,
            bottom: slot.y + extra_lines * LINE_HEIGHT * size + descent * size,
        }
    }

    fn attribute(node: roxmltree::Node<'_, '_>, name: &str) -> f32 {
        node.attribute(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("<{}> without a numeric {name}", node.tag_name().name()))
    }

    /// Everything drawn that is not a slot, except the white page background: rects, lines,
    /// paths (absolute M/L/C/Q/Z) and fixed texts (measured with the embedded font).
    fn artwork(template: &Template) -> Vec<Area> {
        let (ascent, descent) = ascent_descent();
        let (page_width, page_height) = (template.page_mm.0 * 10.0, template.page_mm.1 * 10.0);
        let document = roxmltree::Document::parse(&template.source).unwrap();
        let mut out = Vec::new();
        for node in document
            .root_element()
            .descendants()
            .filter(|n| n.is_element())
        {
            if node.attribute("data-slot").is_some()
                || node.ancestors().any(|a| a.attribute("data-slot").is_some())
            {
                continue;
            }
            let area = |what: String, left: f32, top: f32, right: f32, bottom: f32| Area {
                what,
                left,
                top,
                right,
                bottom,
            };
            match node.tag_name().name() {
                "svg" | "g" | "tspan" => {}
                "rect" => {
                    let (x, y) = (attribute(node, "x"), attribute(node, "y"));
                    let (width, height) = (attribute(node, "width"), attribute(node, "height"));
                    if (x, y, width, height) != (0.0, 0.0, page_width, page_height) {
                        out.push(area(
                            format!("rect at {x},{y}"),
                            x,
                            y,
                            x + width,
                            y + height,
                        ));
                    }
                }
                "line" => {
                    let half = attribute(node, "stroke-width") / 2.0;
                    let (x1, y1, x2, y2) = (
                        attribute(node, "x1"),
                        attribute(node, "y1"),
                        attribute(node, "x2"),
                        attribute(node, "y2"),
                    );
                    out.push(area(
                        format!("line at {x1},{y1}"),
                        x1.min(x2) - half,
                        y1.min(y2) - half,
                        x1.max(x2) + half,
                        y1.max(y2) + half,
                    ));
                }
                "path" => {
                    let d = node.attribute("d").unwrap();
                    assert!(
                        d.chars()
                            .all(|c| "MLCQZ .,-".contains(c) || c.is_ascii_digit()),
                        "this test reads absolute M, L, C, Q and Z only: {d}"
                    );
                    // Each subpath on its own (the four corner brackets are one path): its edges,
                    // and its hull, which must not hold a slot whole.
                    for subpath in d.split('M').filter(|p| !p.trim().is_empty()) {
                        let numbers: Vec<f32> = subpath
                            .split(|c: char| {
                                c.is_ascii_alphabetic() || c == ',' || c.is_whitespace()
                            })
                            .filter(|n| !n.is_empty())
                            .map(|n| n.parse().unwrap())
                            .collect();
                        let points: Vec<(f32, f32)> =
                            numbers.chunks(2).map(|p| (p[0], p[1])).collect();
                        let name = format!("M{}", subpath.get(..10).unwrap_or(subpath));
                        let closing = points
                            .first()
                            .map(|first| (*points.last().unwrap(), *first));
                        for ((x1, y1), (x2, y2)) in
                            points.windows(2).map(|w| (w[0], w[1])).chain(closing)
                        {
                            out.push(area(
                                format!("path edge {name}"),
                                x1.min(x2),
                                y1.min(y2),
                                x1.max(x2),
                                y1.max(y2),
                            ));
                        }
                        let (xs, ys) = (points.iter().map(|p| p.0), points.iter().map(|p| p.1));
                        out.push(area(
                            format!("path hull {name}"),
                            xs.clone().fold(f32::INFINITY, f32::min),
                            ys.clone().fold(f32::INFINITY, f32::min),
                            xs.fold(f32::NEG_INFINITY, f32::max),
                            ys.fold(f32::NEG_INFINITY, f32::max),
                        ));
                    }
                }
                "text" => {
                    let text: String = node
                        .descendants()
                        .filter(|n| n.is_text())
                        .filter_map(|n| n.text())
                        .collect();
                    let size = attribute(node, "font-size");
                    let weight = node
                        .attribute("font-weight")
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(400);
                    let width = Metrics::for_weight(weight).width(text.trim(), size);
                    let (left, right) = span(
                        node.attribute("text-anchor").unwrap_or("start"),
                        attribute(node, "x"),
                        width,
                    );
                    let y = attribute(node, "y");
                    out.push(area(
                        format!("text {text:?}"),
                        left,
                        y - ascent * size,
                        right,
                        y + descent * size,
                    ));
                }
                other => panic!("unexpected <{other}> in a template"),
            }
        }
        out
    }

    #[test]
    fn every_shipped_template_has_each_slot_once_and_one_square_code() {
        let mut expected = vec![
            "account",
            "bank",
            "holder",
            "market",
            "printed",
            "serial",
            "stall_code",
            "vendor",
        ];
        expected.sort_unstable();
        for (size, template) in shipped() {
            let mut names: Vec<&str> = template
                .texts
                .iter()
                .map(|(_, slot)| slot.name.as_str())
                .collect();
            names.sort_unstable();
            assert_eq!(names, expected, "{}", size.as_str());
            assert_eq!(template.codes.len(), 1, "{}", size.as_str());
        }
    }

    /// What breaks the layout contract of `printables/README.md`: a slot's largest box or any
    /// artwork outside the 5 mm margin, two slots' boxes overlapping, artwork in a slot's box
    /// (except a band holding a text slot whole), fixed text touching other artwork.
    fn layout_problems(template: &Template) -> Vec<String> {
        let (width, height) = (template.page_mm.0 * 10.0, template.page_mm.1 * 10.0);
        let inside = Area {
            what: "the page inside its 5 mm margin".into(),
            left: 50.0,
            top: 50.0,
            right: width - 50.0,
            bottom: height - 50.0,
        };
        let mut slots: Vec<Area> = template
            .texts
            .iter()
            .map(|(_, slot)| reserved(slot))
            .collect();
        for (_, qr) in &template.codes {
            slots.push(Area {
                what: "slot qr".into(),
                left: qr.x,
                top: qr.y,
                right: qr.x + qr.side,
                bottom: qr.y + qr.side,
            });
        }
        let art = artwork(template);
        let hull = |area: &Area| area.what.starts_with("path hull");
        let mut problems = Vec::new();
        for area in slots.iter().chain(&art) {
            if !inside.contains(area) {
                problems.push(format!("{area:?} is outside the margin"));
            }
        }
        for (index, a) in slots.iter().enumerate() {
            for b in slots.iter().skip(index + 1) {
                if a.overlaps(b) {
                    problems.push(format!("{a:?} overlaps {b:?}"));
                }
            }
            for b in &art {
                // A band a text sits on (the header) holds the whole slot.
                let background = b.what.starts_with("rect") && a.what != "slot qr" && b.contains(a);
                if (hull(b) && b.contains(a)) || (!hull(b) && !background && a.overlaps(b)) {
                    problems.push(format!("{b:?} is in {a:?}"));
                }
            }
        }
        for (index, a) in art.iter().enumerate() {
            for b in art.iter().skip(index + 1) {
                let text = a.what.starts_with("text") || b.what.starts_with("text");
                if text && !hull(a) && !hull(b) && a.overlaps(b) {
                    problems.push(format!("{a:?} overlaps {b:?}"));
                }
            }
        }
        problems
    }

    #[test]
    fn slots_and_artwork_never_overlap_and_stay_inside_the_5_mm_margin() {
        for (size, template) in shipped() {
            assert_eq!(
                layout_problems(template),
                Vec::<String>::new(),
                "{}",
                size.as_str()
            );
        }
    }

    #[test]
    fn a_slot_moved_onto_artwork_or_past_the_margin_is_caught() {
        let source = &crate::posters::PosterSize::A4.template().unwrap().source;
        for (from, to, expected) in [
            // The vendor's second line would run into "Quét mã để thanh toán".
            (
                r#"data-slot="vendor" x="1505" y="530""#,
                r#"data-slot="vendor" x="1505" y="700""#,
                "slot vendor",
            ),
            // The print date's box would end 3 mm from the right edge.
            (
                r#"data-slot="printed" x="1690""#,
                r#"data-slot="printed" x="1760""#,
                "slot printed",
            ),
            // A bracket inside the code's square.
            ("M332 950 L462 950", "M372 990 L462 950", "slot qr"),
        ] {
            assert!(source.contains(from), "{from}");
            let moved = Template::parse(&source.replace(from, to)).unwrap();
            let problems = layout_problems(&moved);
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{to}: {problems:?}"
            );
        }
    }

    /// Each `text` the renderer drew: its characters, its advance box and its ink, in user units.
    fn rendered_texts(svg: &str, page_width_mm: f32) -> Vec<(String, Area, Area)> {
        fn walk(group: &resvg::usvg::Group, unit: f32, out: &mut Vec<(String, Area, Area)>) {
            for node in group.children() {
                match node {
                    resvg::usvg::Node::Group(group) => walk(group, unit, out),
                    resvg::usvg::Node::Text(text) => {
                        let area = |what: &str, rect: resvg::usvg::Rect| Area {
                            what: what.to_owned(),
                            left: rect.left() / unit,
                            top: rect.top() / unit,
                            right: rect.right() / unit,
                            bottom: rect.bottom() / unit,
                        };
                        let characters: String = text.chunks().iter().map(|c| c.text()).collect();
                        // The outlines are in the text's own coordinates.
                        let ink = text
                            .flattened()
                            .bounding_box()
                            .transform(text.abs_transform())
                            .unwrap();
                        out.push((
                            characters,
                            area("advance", text.abs_bounding_box()),
                            area("ink", ink),
                        ));
                    }
                    _ => {}
                }
            }
        }
        let tree = super::super::tree(svg).unwrap();
        let unit = tree.size().width() / (page_width_mm * 10.0);
        let mut out = Vec::new();
        walk(tree.root(), unit, &mut out);
        out
    }

    #[test]
    fn rendered_texts_stay_inside_their_slot_boxes() {
        let realistic = |slot: &str| match slot {
            "market" => "Chợ Đầu mối Nông sản Thực phẩm Minh Khai",
            "stall_code" => "H41",
            "vendor" => "Nguyễn Thị Ngọc Huyền Trầm Hương Phượng",
            "bank" => "United Overseas Bank Vietnam",
            "holder" => "NGUYEN THI NGOC HUYEN TRAM HUONG PHUONG",
            "account" => "•••• 4567",
            "serial" => "Số tem: KIOT-12-7K3F",
            _ => "In ngày 23/11/2026",
        };
        // The longest each slot can be given (shrunk below the floor where they must be).
        let longest = |slot: &str| match slot {
            "market" => "Chợ Đầu mối Nông sản Thực phẩm Phía Nam Thành phố Hồ Chí Minh",
            "stall_code" => "KHU-NGOAI-TROI-9",
            "vendor" => "Công Tằng Tôn Nữ Thị Phượng Nguyễn Hoàng Ngọc Diễm Thuỳ Dương",
            "bank" => "Ngân hàng số Ubank by VPBank - Ngân hàng TMCP Việt Nam Thịnh Vượng",
            "holder" => "CONG TANG TON NU THI PHUONG NGUYEN HOANG NGOC DIEM",
            "account" => "•••• 4567",
            "serial" => "Số tem: KHU-NGOAI-TROI-9-WWWW",
            _ => "In ngày 23/11/2026",
        };
        // Stacked capitals reach highest, descenders and dots below lowest.
        let tall = |_: &str| "Ẫỹ Ọgj";
        let code = QrMatrix::encode(b"00020101021138570010A000000727", EcLevel::Q).unwrap();
        let variants: [&dyn Fn(&str) -> &'static str; 3] = [&realistic, &longest, &tall];
        for (size, template) in shipped() {
            for texts in variants {
                let (svg, placed) = template.fill(|slot| Some(texts(slot)), &code);
                let rendered = rendered_texts(&svg, template.page_mm.0);
                // Both in document order: each slot's text is the next one drawn with its characters.
                let mut drawn = rendered.iter();
                for placed in &placed {
                    let box_ = reserved(&placed.slot);
                    let characters = placed.fitted.lines.concat();
                    let (_, advance, ink) = drawn
                        .find(|(text, ..)| *text == characters)
                        .unwrap_or_else(|| panic!("{characters:?} was not drawn"));
                    let at = format!(
                        "{} {}: {:?}",
                        size.as_str(),
                        placed.slot.name,
                        placed.fitted
                    );
                    // Half a unit (0.05 mm) of rounding.
                    let widened = Area {
                        what: box_.what.clone(),
                        left: box_.left - 0.5,
                        top: box_.top - 0.5,
                        right: box_.right + 0.5,
                        bottom: box_.bottom + 0.5,
                    };
                    assert!(
                        advance.right - advance.left <= placed.slot.boxed.width + 0.5,
                        "{at}: drawn {} wide",
                        advance.right - advance.left
                    );
                    assert!(widened.contains(ink), "{at}: ink {ink:?} outside {box_:?}");
                }
            }
        }
    }
}
