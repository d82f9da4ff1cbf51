//! QR code images of any payload: the module matrix, SVG and PNG.
//!
//! The `qrcode` crate does segmentation, Reed–Solomon and drawing; choosing the mask is done here
//! ([`mask`]), on bit-packed rows, because the crate spends over 97% of its time there. The choice
//! is the crate's own (same penalty rules, same tie-breaking), so the codes are identical, only
//! about twenty times faster. Rendering is in [`svg`] and [`png`].

pub mod mask;
pub mod png;
pub mod svg;

use std::str::FromStr;

use qrcode::canvas::{Canvas, Module};
use qrcode::types::{Color, QrError as CrateError, Version};

/// Error-correction level: how much of the code may be damaged and still scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcLevel {
    /// About 7% of the code may be lost.
    L,
    /// About 15%: the default for screens.
    #[default]
    M,
    /// About 25%: posters that get scuffed.
    Q,
    /// About 30%.
    H,
}

impl EcLevel {
    fn to_crate(self) -> qrcode::EcLevel {
        match self {
            Self::L => qrcode::EcLevel::L,
            Self::M => qrcode::EcLevel::M,
            Self::Q => qrcode::EcLevel::Q,
            Self::H => qrcode::EcLevel::H,
        }
    }
}

impl FromStr for EcLevel {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_uppercase().as_str() {
            "L" => Ok(Self::L),
            "M" => Ok(Self::M),
            "Q" => Ok(Self::Q),
            "H" => Ok(Self::H),
            other => Err(format!(
                "error correction must be L, M, Q or H, not '{other}'"
            )),
        }
    }
}

/// Why a payload does not fit in a QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Too much data for the largest QR code at this error-correction level.
    #[error("{0} bytes do not fit in a QR code at this error-correction level")]
    TooLong(usize),
    /// Any other refusal by the encoder.
    #[error("the QR encoder refused the data: {0}")]
    Encoder(String),
}

/// The modules of a QR code, without quiet zone: `true` is dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    version: i16,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `data` in the smallest QR version that holds it at `ec_level`, with the mask the
    /// standard's penalty rules prefer.
    pub fn encode(data: &[u8], ec_level: EcLevel) -> Result<Self, QrError> {
        let ec = ec_level.to_crate();
        let map_error = |error: CrateError| match error {
            CrateError::DataTooLong => QrError::TooLong(data.len()),
            other => QrError::Encoder(other.to_string()),
        };
        let bits = qrcode::bits::encode_auto(data, ec).map_err(map_error)?;
        let version = bits.version();
        let (data_codewords, ec_codewords) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(map_error)?;
        let mut canvas = Canvas::new(version, ec);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data_codewords, &ec_codewords);
        let number = match version {
            Version::Normal(number) => number,
            Version::Micro(_) => {
                return Err(QrError::Encoder("micro QR codes are not produced".into()));
            }
        };
        let width =
            usize::try_from(version.width()).map_err(|e| QrError::Encoder(e.to_string()))?;
        let dark = match mask::Unmasked::read(&canvas, width, ec) {
            Some(unmasked) => unmasked.best().into_modules(),
            None => canvas
                .apply_best_mask()
                .into_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        };
        Ok(Self {
            width,
            version: number,
            dark,
        })
    }

    /// Modules per side (21 for version 1, 37 for version 5).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The QR version, 1–40.
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Whether the module in column `x`, row `y` is dark; outside the matrix is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width
            && y < self.width
            && self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }

    /// The rows, top to bottom, each left to right.
    pub fn rows(&self) -> impl Iterator<Item = &[bool]> {
        self.dark.chunks(self.width.max(1))
    }
}

/// Reads a module of the crate's canvas as (dark, maskable).
fn module_bits(module: Module) -> (bool, bool) {
    match module {
        Module::Empty => (false, true),
        Module::Unmasked(color) => (color == Color::Dark, true),
        Module::Masked(color) => (color == Color::Dark, false),
    }
}

/// How the rendered image is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Pixels per module (SVG user units are modules; this sets the pixel size).
    pub module_px: u32,
    /// Light modules around the code: 4 by the standard.
    pub quiet_zone: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            module_px: 8,
            quiet_zone: 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_121_character_vietqr_fits_version_5_at_level_m() {
        let payload = "00020101021238570010A00000072701270006970436011310123456789010208QRIBFTTA530370454061800005802VN62180814Tien cho Mo 126304ABCD";
        let matrix = QrMatrix::encode(payload.as_bytes(), EcLevel::M).unwrap();
        assert_eq!(matrix.version(), 5);
        assert_eq!(matrix.width(), 37);
        assert_eq!(matrix.rows().count(), 37);
    }

    #[test]
    fn too_much_data_is_an_error_not_a_panic() {
        let data = vec![b'x'; 4000];
        assert_eq!(
            QrMatrix::encode(&data, EcLevel::H),
            Err(QrError::TooLong(4000))
        );
    }
}
