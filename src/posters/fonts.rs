//! The poster fonts, embedded in the binary (Noto Sans Regular and Bold from `printables/fonts`,
//! OFL-1.1): the one font database every poster is laid out and rendered with, whatever the
//! machine has installed, and their metrics for text fitting.

use std::sync::{Arc, LazyLock};

use resvg::usvg::fontdb;

use super::fit::Measure;

/// Noto Sans Regular.
pub const REGULAR: &[u8] = include_bytes!("../../printables/fonts/NotoSans-Regular.ttf");
/// Noto Sans Bold.
pub const BOLD: &[u8] = include_bytes!("../../printables/fonts/NotoSans-Bold.ttf");
/// The family name the templates use.
pub const FAMILY: &str = "Noto Sans";

/// Only the embedded fonts: no system font can change a poster.
pub fn database() -> Arc<fontdb::Database> {
    static DATABASE: LazyLock<Arc<fontdb::Database>> = LazyLock::new(|| {
        let mut database = fontdb::Database::new();
        database.load_font_data(REGULAR.to_vec());
        database.load_font_data(BOLD.to_vec());
        database.set_sans_serif_family(FAMILY);
        Arc::new(database)
    });
    Arc::clone(&DATABASE)
}

/// Advance widths of one face, for fitting.
#[derive(Debug)]
pub struct Metrics {
    /// `None` only if an embedded font failed to parse (a test proves they parse): widths are
    /// then estimated at 0.62 em per character, wider than any Noto Sans letter on average.
    face: Option<ttf_parser::Face<'static>>,
}

impl Metrics {
    /// The face for a template's `font-weight` (600 and above: bold).
    pub fn for_weight(weight: u16) -> &'static Self {
        static REGULAR_METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics::parse(REGULAR));
        static BOLD_METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics::parse(BOLD));
        if weight >= 600 {
            &BOLD_METRICS
        } else {
            &REGULAR_METRICS
        }
    }

    fn parse(data: &'static [u8]) -> Self {
        Self {
            face: ttf_parser::Face::parse(data, 0).ok(),
        }
    }
}

impl Measure for Metrics {
    fn width(&self, text: &str, size: f32) -> f32 {
        let Some(face) = &self.face else {
            let count = u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
            return f32::from(count) * 0.62 * size;
        };
        let units: f32 = text
            .chars()
            .map(|c| {
                let glyph = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                f32::from(face.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum();
        units * size / f32::from(face.units_per_em())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_fonts_parse_and_cover_vietnamese() {
        for data in [REGULAR, BOLD] {
            let face = ttf_parser::Face::parse(data, 0).unwrap();
            for c in "ĐđƠơƯưẠạẦầẪẫẶặỄễỆệỖỗỢợỮữỸỹ•".chars()
            {
                assert!(face.glyph_index(c).is_some(), "{c} missing");
            }
        }
        assert_eq!(database().faces().count(), 2);
    }

    #[test]
    fn bold_is_wider_than_regular_and_width_scales_with_size() {
        let text = "Nguyễn Thị Hường";
        let regular = Metrics::for_weight(400).width(text, 100.0);
        let bold = Metrics::for_weight(700).width(text, 100.0);
        assert!(bold > regular, "{bold} {regular}");
        let half = Metrics::for_weight(400).width(text, 50.0);
        assert!((regular / 2.0 - half).abs() < 1e-3);
    }
}
