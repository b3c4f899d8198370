//! A panic in a view or in a computation the window runs stops that one part, not the app: it is
//! caught and its message kept, and the rest goes on, as the trainer's thread does.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::train::worker::panic_message;

/// Runs `work`; a panic in it becomes its message.
pub fn contain<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| panic_message(payload.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::contain;

    #[test]
    fn a_panic_becomes_its_message_and_a_result_passes_through() {
        assert_eq!(contain(|| 6 * 7), Ok(42));
        let index = 9;
        assert_eq!(
            contain(|| [1, 2, 3][index]),
            Err("index out of bounds: the len is 3 but the index is 9".to_string())
        );
        assert_eq!(
            contain(|| -> u8 { panic!("static text") }),
            Err("static text".to_string())
        );
    }
}
