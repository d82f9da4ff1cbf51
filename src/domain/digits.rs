//! Writing integers as ASCII digits straight into a buffer, without formatting machinery:
//! encoders on hot paths (VietQR payloads, SVG paths) call this thousands of times a second.

/// Appends the decimal digits of `value` to `out`.
pub fn push_u64(out: &mut String, value: u64) {
    let mut buffer = [0_u8; 20];
    let mut index = buffer.len();
    let mut rest = value;
    loop {
        index -= 1;
        // `rest % 10` is a single digit, so the narrowing cannot lose anything.
        buffer[index] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &buffer[index..] {
        out.push(char::from(digit));
    }
}

/// How many decimal digits `value` has (1 for zero).
pub fn count(mut value: u64) -> usize {
    let mut digits = 1;
    while value >= 10 {
        value /= 10;
        digits += 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn digits_match_the_standard_formatting(value in any::<u64>()) {
            let mut out = String::new();
            super::push_u64(&mut out, value);
            prop_assert_eq!(out.len(), super::count(value));
            prop_assert_eq!(out, value.to_string());
        }
    }
}
