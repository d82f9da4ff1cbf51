//! Stall posters: a template from `printables/` filled with one stall's texts and static VietQR,
//! rendered to PNG (300 dpi, `resvg`) or to PDF (vector text, the fonts embedded and subset once
//! per document, `krilla`), one page per stall.

pub mod fit;
pub mod fonts;
pub mod template;

use std::str::FromStr;
use std::sync::LazyLock;

use krilla::Document;
use krilla::geom::Size as PdfSize;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};
use resvg::{tiny_skia, usvg};

use crate::qr::{EcLevel, QrMatrix};
use template::{Placed, Template, TemplateError};

/// Poster sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PosterSize {
    /// A4 portrait, for the stall's front.
    #[default]
    A4,
    /// A5 portrait.
    A5,
    /// A 10 × 15 cm counter sticker.
    Sticker,
}

impl PosterSize {
    /// Every size.
    pub const ALL: [Self; 3] = [Self::A4, Self::A5, Self::Sticker];

    /// Its name on the command line and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A4 => "a4",
            Self::A5 => "a5",
            Self::Sticker => "sticker",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::A4 => include_str!("../../printables/a4.svg"),
            Self::A5 => include_str!("../../printables/a5.svg"),
            Self::Sticker => include_str!("../../printables/sticker.svg"),
        }
    }

    /// The size's template, parsed once.
    pub fn template(self) -> Result<&'static Template, PosterError> {
        static TEMPLATES: LazyLock<[Result<Template, TemplateError>; 3]> =
            LazyLock::new(|| PosterSize::ALL.map(|size| Template::parse(size.source())));
        let index = match self {
            Self::A4 => 0,
            Self::A5 => 1,
            Self::Sticker => 2,
        };
        match TEMPLATES.get(index) {
            Some(Ok(template)) => Ok(template),
            Some(Err(error)) => Err(PosterError::Template(error.clone())),
            None => Err(PosterError::Render("no template".into())),
        }
    }
}

impl FromStr for PosterSize {
    type Err = PosterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a4" => Ok(Self::A4),
            "a5" => Ok(Self::A5),
            "sticker" => Ok(Self::Sticker),
            _ => Err(PosterError::Size(s.to_owned())),
        }
    }
}

/// What went wrong making a poster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosterError {
    /// An unknown size name.
    #[error("unknown poster size {0:?}: use a4, a5 or sticker")]
    Size(String),
    /// A shipped template is broken.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The payload does not fit a QR code.
    #[error("the stall's payload does not fit a QR code: {0}")]
    Code(String),
    /// The renderer failed.
    #[error("rendering failed: {0}")]
    Render(String),
}

/// The texts and code of one stall's poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterContent {
    /// Market name.
    pub market: String,
    /// Stall code (`A12`).
    pub stall_code: String,
    /// Vendor name.
    pub vendor: String,
    /// Bank short name.
    pub bank: String,
    /// Account holder (ASCII upper).
    pub holder: String,
    /// Masked account (`•••• 5678`).
    pub account: String,
    /// The poster's serial line.
    pub serial: String,
    /// The print date line.
    pub printed: String,
    /// The static VietQR payload.
    pub payload: String,
}

impl PosterContent {
    fn text(&self, slot: &str) -> Option<&str> {
        Some(match slot {
            "market" => &self.market,
            "stall_code" => &self.stall_code,
            "vendor" => &self.vendor,
            "bank" => &self.bank,
            "holder" => &self.holder,
            "account" => &self.account,
            "serial" => &self.serial,
            "printed" => &self.printed,
            _ => return None,
        })
    }
}

pub use crate::domain::stall::mask_account;

/// Error correction of the printed code: Q restores up to a quarter of the code, enough for a
/// scuffed or partly covered lamination, and keeps modules large enough to scan from a metre.
pub const POSTER_EC: EcLevel = EcLevel::Q;

/// One poster as SVG, with how its texts were fitted.
pub fn svg(
    size: PosterSize,
    content: &PosterContent,
) -> Result<(String, Vec<Placed>), PosterError> {
    let template = size.template()?;
    let code = QrMatrix::encode(content.payload.as_bytes(), POSTER_EC)
        .map_err(|e| PosterError::Code(e.to_string()))?;
    Ok(template.fill(|slot| content.text(slot), &code))
}

fn tree(svg: &str) -> Result<usvg::Tree, PosterError> {
    let options = usvg::Options {
        fontdb: fonts::database(),
        font_family: fonts::FAMILY.to_owned(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| PosterError::Render(e.to_string()))
}

/// Dots per inch of PNG posters.
pub const PNG_DPI: f32 = 300.0;

/// One poster as a PNG at [`PNG_DPI`].
pub fn png(size: PosterSize, content: &PosterContent) -> Result<Vec<u8>, PosterError> {
    let (svg, _) = svg(size, content)?;
    let tree = tree(&svg)?;
    let (width_mm, height_mm) = size.template()?.page_mm;
    let pixels = |mm: f32| (mm / 25.4 * PNG_DPI).round();
    let (width, height) = (pixels(width_mm), pixels(height_mm));
    let mut pixmap = tiny_skia::Pixmap::new(to_u32(width), to_u32(height))
        .ok_or_else(|| PosterError::Render("page too large".into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let scale = tiny_skia::Transform::from_scale(
        width / tree.size().width(),
        height / tree.size().height(),
    );
    resvg::render(&tree, scale, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Render(e.to_string()))
}

/// A page side in whole pixels (clamped, so the conversion is exact and in range).
#[allow(clippy::as_conversions)]
fn to_u32(value: f32) -> u32 {
    value.round().clamp(1.0, 20_000.0) as u32
}

/// Posters as one PDF, a page each, in the order given.
pub fn pdf<'a>(
    size: PosterSize,
    contents: impl IntoIterator<Item = &'a PosterContent>,
    mut progress: impl FnMut(),
) -> Result<Vec<u8>, PosterError> {
    let (width_mm, height_mm) = size.template()?.page_mm;
    let points = |mm: f32| mm / 25.4 * 72.0;
    let page_size = PdfSize::from_wh(points(width_mm), points(height_mm))
        .ok_or_else(|| PosterError::Render("empty page".into()))?;
    let mut document = Document::new();
    for content in contents {
        let (svg, _) = svg(size, content)?;
        let tree = tree(&svg)?;
        let mut page = document.start_page_with(PageSettings::new(page_size));
        let mut surface = page.surface();
        surface
            .draw_svg(&tree, page_size, SvgSettings::default())
            .ok_or_else(|| PosterError::Render("the page could not be drawn".into()))?;
        surface.finish();
        page.finish();
        progress();
    }
    document
        .finish()
        .map_err(|e| PosterError::Render(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::fit::Measure;
    use super::fonts::Metrics;
    use super::*;
    use crate::domain::fold;
    use crate::domain::stall::MAX_HOLDER_CHARS;
    use crate::domain::vietqr::banks::directory;

    /// Long vendor names with stacked marks (ễ ầ ượ ỷ ệ ĩ), up to 45 characters.
    const LONG_VENDORS: [&str; 5] = [
        "Nguyễn Thị Ngọc Huyền Trầm Hương Phượng",
        "Đặng Thị Ỷ Lan Hoàng Quốc Việt Nghĩa",
        "Khuất Thị Phương Nguyệt Ánh",
        "Đỗ Nguyễn Hoàng Phương Thảo",
        "Tôn Nữ Thị Phượng Nguyễn Hoàng Ngọc Diễm Thuỳ",
    ];

    /// A name of more than 60 characters (vendor names may have up to 100).
    const SIXTY_PLUS: &str = "Công Tằng Tôn Nữ Thị Phượng Nguyễn Hoàng Ngọc Diễm Thuỳ Dương";

    /// Texts of one character.
    const ONE_CHARACTER: [&str; 5] = ["Ẫ", "i", "W", "8", "•"];

    /// Share of a slot's size below which the fitter stops shrinking (`fit::ABSOLUTE_FLOOR`).
    const ABSOLUTE_FLOOR: f32 = 0.2;

    fn code() -> QrMatrix {
        let payload = "00020101021138570010A00000072701270006970436011310123456789010208QRIBFTTA53037045802VN6304ABCD";
        QrMatrix::encode(payload.as_bytes(), POSTER_EC).unwrap()
    }

    /// `text` in slot `slot` of the `size` poster, as the renderer placed it.
    fn placed(size: PosterSize, code: &QrMatrix, slot: &str, text: &str) -> Placed {
        let (_, placed) = size
            .template()
            .unwrap()
            .fill(|name| (name == slot).then_some(text), code);
        placed.into_iter().find(|p| p.slot.name == slot).unwrap()
    }

    fn describe(size: PosterSize, placed: &Placed, text: &str) -> String {
        format!(
            "{} {}: {text:?} → {:?}",
            size.as_str(),
            placed.slot.name,
            placed.fitted
        )
    }

    /// Every line inside the box at the size chosen, never larger than the template asks, and
    /// every character of `text` printed (every word whole unless it had to go below the floor).
    #[track_caller]
    fn assert_printed_whole_inside_the_box(size: PosterSize, placed: &Placed, text: &str) {
        let (slot, fitted) = (&placed.slot, &placed.fitted);
        let at = describe(size, placed, text);
        let metrics = Metrics::for_weight(slot.weight);
        for line in &fitted.lines {
            let width = metrics.width(line, fitted.size);
            assert!(
                width <= slot.boxed.width,
                "{at}: {line:?} is {width} wide, the box {}",
                slot.boxed.width
            );
        }
        assert!(
            fitted.size <= slot.boxed.size,
            "{at}: larger than {}",
            slot.boxed.size
        );
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(
            squeeze(&fitted.lines.concat()),
            squeeze(text),
            "{at}: characters lost"
        );
        if !fitted.below_floor {
            let words = fitted.lines.join(" ");
            assert_eq!(
                words.split_whitespace().collect::<Vec<_>>(),
                text.split_whitespace().collect::<Vec<_>>(),
                "{at}: a word was broken"
            );
        }
    }

    /// [`assert_printed_whole_inside_the_box`], on no more lines than the slot has.
    #[track_caller]
    fn assert_fits(size: PosterSize, placed: &Placed, text: &str) {
        assert_printed_whole_inside_the_box(size, placed, text);
        assert!(
            placed.fitted.lines.len() <= placed.slot.boxed.lines,
            "{}: more than {} lines",
            describe(size, placed, text),
            placed.slot.boxed.lines
        );
    }

    /// [`assert_fits`], at the slot's floor or larger.
    #[track_caller]
    fn assert_readable(size: PosterSize, placed: &Placed, text: &str) {
        assert_fits(size, placed, text);
        let (slot, fitted) = (&placed.slot, &placed.fitted);
        assert!(
            !fitted.below_floor && fitted.size >= slot.boxed.min_size,
            "{}: below the floor {}",
            describe(size, placed, text),
            slot.boxed.min_size
        );
    }

    /// The text of `texts` widest in bold.
    fn widest<'a>(texts: impl IntoIterator<Item = &'a str>) -> &'a str {
        let bold = Metrics::for_weight(700);
        texts
            .into_iter()
            .max_by(|a, b| bold.width(a, 100.0).total_cmp(&bold.width(b, 100.0)))
            .unwrap()
    }

    fn holder(vendor: &str) -> String {
        fold::to_ascii(vendor).to_ascii_uppercase()
    }

    #[test]
    fn every_bank_name_a_poster_can_carry_fits_the_bank_slot_at_a_readable_size() {
        let code = code();
        for size in PosterSize::ALL {
            for bank in directory().all() {
                // The poster prints `PayeeAccount::bank_short_name`: both names for a shared BIN.
                for name in [bank.short_name.clone(), directory().short_names(&bank.bin)] {
                    assert_readable(size, &placed(size, &code, "bank", &name), &name);
                }
            }
        }
    }

    #[test]
    fn every_bank_full_name_fits_the_bank_slot_whole_and_readable_on_a4() {
        let code = code();
        let longest = widest(directory().all().iter().map(|b| b.name.as_str()));
        assert!(longest.chars().count() >= 60, "{longest}");
        for size in PosterSize::ALL {
            for bank in directory().all() {
                let placed = placed(size, &code, "bank", &bank.name);
                if size == PosterSize::A4 {
                    assert_readable(size, &placed, &bank.name);
                } else {
                    // The 58–66 character names go a little below the floor on A5 and the
                    // sticker: printed whole and flagged.
                    assert_fits(size, &placed, &bank.name);
                }
            }
        }
    }

    #[test]
    fn long_vendor_names_with_stacked_marks_fit_at_a_readable_size() {
        let code = code();
        for size in PosterSize::ALL {
            for vendor in LONG_VENDORS {
                assert_readable(size, &placed(size, &code, "vendor", vendor), vendor);
                let holder = holder(vendor);
                assert_readable(size, &placed(size, &code, "holder", &holder), &holder);
            }
            let longest_holder: String =
                holder(SIXTY_PLUS).chars().take(MAX_HOLDER_CHARS).collect();
            assert_readable(
                size,
                &placed(size, &code, "holder", &longest_holder),
                &longest_holder,
            );
        }
    }

    #[test]
    fn a_sixty_character_name_is_printed_whole_on_two_lines_below_the_floor_rather_than_cut() {
        let code = code();
        assert!(SIXTY_PLUS.chars().count() > 60);
        for size in PosterSize::ALL {
            let placed = placed(size, &code, "vendor", SIXTY_PLUS);
            assert_fits(size, &placed, SIXTY_PLUS);
            assert_eq!(placed.fitted.lines.len(), 2, "{placed:?}");
            assert!(placed.fitted.below_floor, "{placed:?}");
            assert!(
                placed.fitted.size >= 0.7 * placed.slot.boxed.min_size,
                "{placed:?}"
            );
        }
    }

    #[test]
    fn the_other_slots_hold_real_values_at_a_readable_size() {
        let code = code();
        let cases: [(&str, &[&str]); 5] = [
            (
                "market",
                &[
                    "Chợ Mơ",
                    "Chợ Quảng Oai",
                    "Chợ Đầu mối Nông sản Thực phẩm Minh Khai",
                ],
            ),
            ("stall_code", &["A1", "H41", "KIOT-12"]),
            (
                "account",
                &[&mask_account("9704031101234567"), &mask_account("1")],
            ),
            ("serial", &["Số tem: A12-7K3F", "Số tem: KIOT-12-7K3F"]),
            ("printed", &["In ngày 23/11/2026", "In ngày 08/08/2088"]),
        ];
        for size in PosterSize::ALL {
            for (slot, texts) in cases {
                for text in texts {
                    assert_readable(size, &placed(size, &code, slot, text), text);
                }
            }
        }
    }

    #[test]
    fn the_longest_names_and_single_characters_fit_every_slot_without_losing_a_letter() {
        let code = code();
        let banks = directory().all();
        let mut texts = vec![
            widest(banks.iter().map(|b| b.short_name.as_str())),
            widest(banks.iter().map(|b| b.name.as_str())),
            SIXTY_PLUS,
        ];
        texts.extend(LONG_VENDORS);
        for size in PosterSize::ALL {
            for (_, slot) in &size.template().unwrap().texts {
                for text in &texts {
                    let placed = placed(size, &code, &slot.name, text);
                    assert_printed_whole_inside_the_box(size, &placed, text);
                    // More lines than the slot has only as the last resort: nothing fits even at
                    // a fifth of the slot's size (a bank's full name as a stall code).
                    if placed.fitted.lines.len() > slot.boxed.lines {
                        assert!(
                            placed.fitted.below_floor
                                && placed.fitted.size <= slot.boxed.size * ABSOLUTE_FLOOR + 1e-3,
                            "{}",
                            describe(size, &placed, text)
                        );
                    }
                }
                for text in ONE_CHARACTER {
                    let placed = placed(size, &code, &slot.name, text);
                    assert_fits(size, &placed, text);
                    assert_eq!(placed.fitted.lines, [text], "{}", slot.name);
                    assert!(
                        (placed.fitted.size - slot.boxed.size).abs() < f32::EPSILON,
                        "one character keeps the template's size: {}",
                        describe(size, &placed, text)
                    );
                }
            }
        }
    }
}
