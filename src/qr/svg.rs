//! SVG rendering of a [`QrMatrix`]: one `<path>` of horizontal runs on a white square.
//!
//! User units are modules, so the drawing stays crisp at any size; `width`/`height` give the pixel
//! size (`module_px` per module). Each run of dark modules in a row is one `M x y h n v1 h-n z`
//! rectangle: a version-5 code is about 300 runs and 5 KB.

use super::{Layout, QrMatrix};
use crate::domain::digits::push_u64;

fn push(out: &mut String, value: usize) {
    push_u64(out, u64::try_from(value).unwrap_or(u64::MAX));
}

/// The code as a standalone SVG document.
pub fn render(matrix: &QrMatrix, layout: Layout) -> String {
    let mut out = String::with_capacity(512 + matrix.width() * matrix.width() * 4);
    render_into(&mut out, matrix, layout);
    out
}

/// Appends the SVG document for `matrix` to `out`.
pub fn render_into(out: &mut String, matrix: &QrMatrix, layout: Layout) {
    let quiet = usize::try_from(layout.quiet_zone).unwrap_or(4);
    let px = usize::try_from(layout.module_px).unwrap_or(8).max(1);
    let side = matrix.width() + 2 * quiet;
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width=""#);
    push(out, side * px);
    out.push_str(r#"" height=""#);
    push(out, side * px);
    out.push_str(r#"" viewBox="0 0 "#);
    push(out, side);
    out.push(' ');
    push(out, side);
    out.push_str(r##"" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d=""##);
    path_data_into(out, matrix, quiet);
    out.push_str("\"/></svg>\n");
}

/// Appends the path data of the dark modules, one unit per module, offset by `quiet` modules:
/// one `M x y h n v1 h-n z` rectangle per run of dark modules in a row.
pub fn path_data_into(out: &mut String, matrix: &QrMatrix, quiet: usize) {
    for (y, row) in matrix.rows().enumerate() {
        let mut x = 0;
        while x < row.len() {
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < row.len() && row[x] {
                x += 1;
            }
            out.push('M');
            push(out, start + quiet);
            out.push(' ');
            push(out, y + quiet);
            out.push('h');
            push(out, x - start);
            out.push_str("v1h-");
            push(out, x - start);
            out.push('z');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::EcLevel;

    #[test]
    fn the_svg_is_sized_by_module_px_and_keeps_a_quiet_zone() {
        let matrix = QrMatrix::encode(b"hello", EcLevel::M).unwrap();
        let svg = render(
            &matrix,
            Layout {
                module_px: 10,
                quiet_zone: 4,
            },
        );
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="290" height="290" viewBox="0 0 29 29""#));
        // The top-left finder pattern starts at the quiet zone's edge with a run of seven.
        assert!(svg.contains(r#"d="M4 4h7v1h-7z"#), "{svg}");
        assert!(svg.ends_with("\"/></svg>\n"));
    }

    #[test]
    fn every_dark_module_is_covered_by_exactly_one_run() {
        let matrix = QrMatrix::encode(b"00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F", EcLevel::M).unwrap();
        let svg = render(&matrix, Layout::default());
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut painted = vec![false; matrix.width() * matrix.width()];
        for run in path.split('z').filter(|r| !r.is_empty()) {
            let numbers: Vec<usize> = run
                .trim_start_matches('M')
                .split([' ', 'h', 'v'])
                .filter(|s| !s.is_empty() && !s.starts_with('-'))
                .map(|s| s.parse().unwrap())
                .collect();
            let (x, y, n) = (numbers[0] - 4, numbers[1] - 4, numbers[2]);
            for dx in 0..n {
                assert!(!painted[y * matrix.width() + x + dx]);
                painted[y * matrix.width() + x + dx] = true;
            }
        }
        for y in 0..matrix.width() {
            for x in 0..matrix.width() {
                assert_eq!(painted[y * matrix.width() + x], matrix.is_dark(x, y));
            }
        }
    }
}
