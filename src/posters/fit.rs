//! Text fitting: the largest font size at which a text fits its box, on one line or wrapped on
//! up to the box's lines, shrinking down to the box's floor (and below it, flagged, rather than
//! cutting anything off). Pure: widths come from a [`Measure`].

use unicode_normalization::char::is_combining_mark;

/// Widths of text in a font, in the template's user units.
pub trait Measure {
    /// The advance width of `text` at font size `size`.
    fn width(&self, text: &str, size: f32) -> f32;
}

/// A template's text box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Widest a line may be.
    pub width: f32,
    /// The size to use when the text fits.
    pub size: f32,
    /// The floor: the smallest size for comfortable reading.
    pub min_size: f32,
    /// Most lines.
    pub lines: usize,
}

/// A text laid out in its box.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The font size chosen.
    pub size: f32,
    /// The lines, top to bottom; together they hold every character of the text's words.
    pub lines: Vec<String>,
    /// The text could only fit below the box's floor.
    pub below_floor: bool,
}

/// One line stays preferred while it fits at this share of the box's size or more.
const ONE_LINE_SHARE: f32 = 0.8;
/// Each step down the size ladder.
const STEP: f32 = 0.96;
/// Never smaller than this share of the box's size.
const ABSOLUTE_FLOOR: f32 = 0.2;

/// Lays `text` out in `boxed`: one line at the largest size down to 80 % of the box's size; else
/// the largest size down to the floor at which it wraps on the box's lines; else smaller still,
/// breaking words too long for a line, flagged `below_floor`.
pub fn fit(text: &str, boxed: &TextBox, measure: &impl Measure) -> Fitted {
    let words: Vec<&str> = text.split_whitespace().collect();
    let one_line = words.join(" ");
    let lines = boxed.lines.max(1);
    let fits = |line: &str, size: f32| measure.width(line, size) <= boxed.width;

    let one_line_floor = (boxed.size * ONE_LINE_SHARE).max(boxed.min_size);
    for size in ladder(boxed.size, one_line_floor) {
        if fits(&one_line, size) {
            return Fitted {
                size,
                lines: vec![one_line],
                below_floor: false,
            };
        }
    }
    for size in ladder(boxed.size, boxed.min_size) {
        if let Some(wrapped) = wrap(&words, size, lines, &fits) {
            return Fitted {
                size,
                lines: wrapped,
                below_floor: false,
            };
        }
    }
    let mut last = Vec::new();
    let mut last_size = boxed.min_size;
    for size in ladder(boxed.min_size, boxed.size * ABSOLUTE_FLOOR) {
        let pieces = break_long_words(&words, size, &fits);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        if let Some(wrapped) = wrap(&pieces, size, lines, &fits) {
            return Fitted {
                size,
                lines: wrapped,
                below_floor: true,
            };
        }
        last = pieces.iter().map(|p| (*p).to_owned()).collect();
        last_size = size;
    }
    // Nothing fits even at the absolute floor: one piece per line, all of them (never cut).
    Fitted {
        size: last_size,
        lines: last,
        below_floor: true,
    }
}

/// Sizes from `top` down to `floor` (both included).
fn ladder(top: f32, floor: f32) -> impl Iterator<Item = f32> {
    let mut next = Some(top);
    std::iter::from_fn(move || {
        let size = next?;
        next = if size <= floor {
            None
        } else {
            Some((size * STEP).max(floor))
        };
        Some(size)
    })
}

/// Greedy wrap of `words` at `size`, if every line fits and there are at most `lines`.
fn wrap(
    words: &[&str],
    size: f32,
    lines: usize,
    fits: &impl Fn(&str, f32) -> bool,
) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in words {
        if line.is_empty() {
            line.push_str(word);
        } else {
            let candidate = format!("{line} {word}");
            if fits(&candidate, size) {
                line = candidate;
            } else {
                out.push(std::mem::take(&mut line));
                line.push_str(word);
            }
        }
        if !fits(&line, size) {
            return None;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    (out.len() <= lines).then_some(out)
}

/// `words`, with each word too wide for a line at `size` broken into pieces that fit (between
/// characters, never between a letter and its combining marks).
fn break_long_words(words: &[&str], size: f32, fits: &impl Fn(&str, f32) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for word in words {
        if fits(word, size) {
            out.push((*word).to_owned());
            continue;
        }
        let mut piece = String::new();
        for cluster in clusters(word) {
            let candidate = format!("{piece}{cluster}");
            if !piece.is_empty() && !fits(&candidate, size) {
                out.push(std::mem::take(&mut piece));
                piece.push_str(cluster);
            } else {
                piece = candidate;
            }
        }
        if !piece.is_empty() {
            out.push(piece);
        }
    }
    out
}

/// A letter with the combining marks that follow it.
fn clusters(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, c) in word.char_indices().skip(1) {
        if !is_combining_mark(c) {
            out.push(word.get(start..index).unwrap_or_default());
            start = index;
        }
    }
    out.push(word.get(start..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every character one unit wide per unit of size (combining marks zero).
    struct Mono;

    impl Measure for Mono {
        fn width(&self, text: &str, size: f32) -> f32 {
            let count = text.chars().filter(|c| !is_combining_mark(*c)).count();
            f32::from(u16::try_from(count).unwrap_or(u16::MAX)) * size
        }
    }

    fn boxed(width: f32, lines: usize) -> TextBox {
        TextBox {
            width,
            size: 10.0,
            min_size: 6.0,
            lines,
        }
    }

    #[test]
    fn short_text_keeps_its_size_on_one_line() {
        let fitted = fit("Chợ Mơ", &boxed(100.0, 2), &Mono);
        assert_eq!(fitted.lines, vec!["Chợ Mơ"]);
        assert!((fitted.size - 10.0).abs() < f32::EPSILON);
    }

    #[test]
    fn a_slightly_long_line_shrinks_rather_than_wraps() {
        // 10 characters at size 10 = 100 > 90; at 9 it fits.
        let fitted = fit("Nguyễn Thị", &boxed(90.0, 2), &Mono);
        assert_eq!(fitted.lines, vec!["Nguyễn Thị"]);
        assert!(fitted.size <= 9.0 && fitted.size >= 8.0, "{fitted:?}");
    }

    #[test]
    fn a_long_name_wraps_at_a_readable_size() {
        let fitted = fit("Nguyễn Thị Thu Hường Phượng", &boxed(130.0, 2), &Mono);
        assert_eq!(fitted.lines.len(), 2, "{fitted:?}");
        assert!(fitted.size >= 6.0 && !fitted.below_floor);
    }

    #[test]
    fn a_word_wider_than_the_box_is_broken_not_cut() {
        let fitted = fit(
            "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            &boxed(60.0, 2),
            &Mono,
        );
        assert!(fitted.below_floor);
        assert_eq!(
            fitted.lines.concat(),
            "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
    }

    #[test]
    fn combining_marks_stay_with_their_letter() {
        // "ệ" decomposed: e + U+0323 + U+0302.
        let word = "Nghe\u{323}\u{302}nhe\u{323}\u{302}nhe\u{323}\u{302}nhe\u{323}\u{302}";
        let fitted = fit(word, &boxed(12.0, 1), &Mono);
        for line in &fitted.lines {
            assert!(!line.starts_with(is_combining_mark), "{line:?}");
        }
    }

    proptest! {
        #[test]
        fn nothing_is_lost_and_every_line_fits_above_the_absolute_floor(
            words in proptest::collection::vec("[a-zA-Zàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễđơờớợởỡưừứựửữ]{1,14}", 1..8),
            width in 20.0f32..300.0,
            lines in 1usize..4,
        ) {
            let text = words.join(" ");
            let fitted = fit(&text, &boxed(width, lines), &Mono);
            let joined: String = fitted.lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            prop_assert_eq!(joined, original);
            if fitted.lines.len() <= lines {
                for line in &fitted.lines {
                    prop_assert!(Mono.width(line, fitted.size) <= width + 1e-3);
                }
            }
            prop_assert!(fitted.size >= 10.0 * ABSOLUTE_FLOOR - 1e-3);
            prop_assert_eq!(fitted.below_floor, fitted.size < 6.0 - 1e-3 || fitted.below_floor);
        }
    }
}
