//! Language: the language of the headline and body, detected from the text with `whatlang`
//! (trigram profiles of 70 languages, embedded in the crate; no downloads).
//!
//! The result goes to `enrichment.language` as a BCP 47 tag (ISO 639-1 where it exists) with
//! a confidence 0–100; the wire's own claim stays in [`Story::declared_language`]. Text with
//! fewer than [`MIN_LETTERS`] letters, or a detection below [`MIN_CONFIDENCE`], gives no
//! result rather than a guess. Only the first [`SAMPLE_BYTES`] bytes of the body are read:
//! a few paragraphs settle the language, and the cost stays flat for long stories.
//! Esperanto and Latin are never reported: no wire writes in them, and short English text is
//! sometimes mistaken for them.
//!
//! English fast path: most copy is English, and whatlang's trigram scoring costs far more than
//! counting function words. When at least [`ENGLISH_MIN_SHARE`] of the first
//! [`ENGLISH_WORDS`] words (at least 30) are among the commonest English function words
//! ("the", "of", "and", "said" …, a share no other language reaches), the answer is English
//! with confidence `60 + 100 × share` (capped at 100) without running whatlang.

use whatlang::{Detector, Lang};

use crate::pipeline::{Stage, StageError};
use crate::story::{DetectedLanguage, Story};

/// Fewer letters than this in headline and body: no detection.
pub const MIN_LETTERS: usize = 40;

/// Detections less sure than this (0–100) are dropped.
pub const MIN_CONFIDENCE: u8 = 20;

/// How much of the body is read.
pub const SAMPLE_BYTES: usize = 1500;

/// How many words the English fast path reads.
pub const ENGLISH_WORDS: usize = 200;

/// Share of English function words that settles the language without whatlang.
pub const ENGLISH_MIN_SHARE: f64 = 0.2;

/// Whether `word` (ASCII, at most eight bytes) is a common English function word.
fn is_english_function_word(word: &[u8]) -> bool {
    let mut buf = [0u8; 8];
    if word.len() > buf.len() {
        return false;
    }
    for (b, w) in buf.iter_mut().zip(word) {
        *b = w.to_ascii_lowercase();
    }
    matches!(
        &buf[..word.len()],
        b"the"
            | b"of"
            | b"and"
            | b"to"
            | b"a"
            | b"in"
            | b"that"
            | b"is"
            | b"was"
            | b"for"
            | b"on"
            | b"it"
            | b"with"
            | b"as"
            | b"he"
            | b"she"
            | b"said"
            | b"by"
            | b"at"
            | b"from"
            | b"his"
            | b"her"
            | b"be"
            | b"are"
            | b"were"
            | b"has"
            | b"have"
            | b"had"
            | b"an"
            | b"this"
            | b"not"
            | b"but"
            | b"they"
            | b"will"
            | b"would"
            | b"which"
            | b"their"
            | b"its"
            | b"who"
            | b"been"
            | b"after"
            | b"about"
    )
}

/// Function-word share of the first [`ENGLISH_WORDS`] words of `parts`: `None` when there
/// are fewer than 30 words.
fn english_share(parts: [&str; 2]) -> Option<f64> {
    let (mut words, mut hits) = (0usize, 0usize);
    'outer: for part in parts {
        for word in part
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
        {
            words += 1;
            hits += usize::from(word.is_ascii() && is_english_function_word(word.as_bytes()));
            if words == ENGLISH_WORDS {
                break 'outer;
            }
        }
    }
    // counts below 2^52 convert exactly
    (words >= 30).then(|| hits as f64 / words as f64)
}

/// The BCP 47 tag for a whatlang language: ISO 639-1 where one exists, else ISO 639-3.
pub fn bcp47(lang: Lang) -> &'static str {
    match lang {
        Lang::Afr => "af",
        Lang::Aka => "ak",
        Lang::Amh => "am",
        Lang::Ara => "ar",
        Lang::Aze => "az",
        Lang::Bel => "be",
        Lang::Ben => "bn",
        Lang::Bul => "bg",
        Lang::Cat => "ca",
        Lang::Ces => "cs",
        Lang::Cmn => "zh",
        Lang::Cym => "cy",
        Lang::Dan => "da",
        Lang::Deu => "de",
        Lang::Ell => "el",
        Lang::Eng => "en",
        Lang::Epo => "eo",
        Lang::Est => "et",
        Lang::Fin => "fi",
        Lang::Fra => "fr",
        Lang::Guj => "gu",
        Lang::Heb => "he",
        Lang::Hin => "hi",
        Lang::Hrv => "hr",
        Lang::Hun => "hu",
        Lang::Hye => "hy",
        Lang::Ind => "id",
        Lang::Ita => "it",
        Lang::Jav => "jv",
        Lang::Jpn => "ja",
        Lang::Kan => "kn",
        Lang::Kat => "ka",
        Lang::Khm => "km",
        Lang::Kor => "ko",
        Lang::Lat => "la",
        Lang::Lav => "lv",
        Lang::Lit => "lt",
        Lang::Mal => "ml",
        Lang::Mar => "mr",
        Lang::Mkd => "mk",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Nld => "nl",
        Lang::Nob => "nb",
        Lang::Ori => "or",
        Lang::Pan => "pa",
        Lang::Pes => "fa",
        Lang::Pol => "pl",
        Lang::Por => "pt",
        Lang::Ron => "ro",
        Lang::Rus => "ru",
        Lang::Sin => "si",
        Lang::Slk => "sk",
        Lang::Slv => "sl",
        Lang::Sna => "sn",
        Lang::Spa => "es",
        Lang::Srp => "sr",
        Lang::Swe => "sv",
        Lang::Tam => "ta",
        Lang::Tel => "te",
        Lang::Tgl => "tl",
        Lang::Tha => "th",
        Lang::Tuk => "tk",
        Lang::Tur => "tr",
        Lang::Ukr => "uk",
        Lang::Urd => "ur",
        Lang::Uzb => "uz",
        Lang::Vie => "vi",
        Lang::Yid => "yi",
        Lang::Zul => "zu",
        // a language added by a later whatlang: its ISO 639-3 code is valid BCP 47
        #[allow(unreachable_patterns)]
        other => other.code(),
    }
}

/// The largest char boundary at or below `at`, backed off to the last whitespace so that a
/// word is not cut.
fn sample_end(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut end = at;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .rfind(char::is_whitespace)
        .filter(|&i| i > 0)
        .unwrap_or(end)
}

/// The language detector stage.
#[derive(Debug)]
pub struct Language {
    detector: Detector,
}

impl Language {
    /// Builds the detector (every whatlang language but Esperanto and Latin).
    pub fn new() -> Self {
        Self {
            detector: Detector::with_denylist(vec![Lang::Epo, Lang::Lat]),
        }
    }

    /// Detects the language of a headline and body; `None` when too short or unclear.
    pub fn detect(&self, headline: Option<&str>, body: &str) -> Option<DetectedLanguage> {
        let body = &body[..sample_end(body, SAMPLE_BYTES)];
        let headline = headline.unwrap_or("");
        let letters = headline
            .chars()
            .chain(body.chars())
            .filter(|c| c.is_alphabetic())
            .take(MIN_LETTERS)
            .count();
        if letters < MIN_LETTERS {
            return None;
        }
        if let Some(share) = english_share([headline, body]).filter(|s| *s >= ENGLISH_MIN_SHARE) {
            // share is in 0.2–1.0, so the value is in 80–160 before the cap
            let confidence = (60.0 + share * 100.0).round().min(100.0) as u8;
            return Some(DetectedLanguage {
                code: "en".into(),
                iso639_3: "eng".into(),
                confidence,
            });
        }
        let info = if headline.is_empty() {
            self.detector.detect(body)
        } else {
            let mut sample = String::with_capacity(headline.len() + 2 + body.len());
            sample.push_str(headline);
            sample.push_str(".\n");
            sample.push_str(body);
            self.detector.detect(&sample)
        }?;
        // confidence() is in 0.0–1.0; the cast saturates.
        let confidence = (info.confidence() * 100.0).round().clamp(0.0, 100.0) as u8;
        (confidence >= MIN_CONFIDENCE).then(|| DetectedLanguage {
            code: bcp47(info.lang()).to_string(),
            iso639_3: info.lang().code().to_string(),
            confidence,
        })
    }
}

impl Default for Language {
    fn default() -> Self {
        Self::new()
    }
}

impl Stage for Language {
    fn name(&self) -> &'static str {
        "language"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let body = story.body_text();
        story.enrichment.language = self.detect(story.headline.as_deref(), &body);
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let lang = Language::new();
        for (headline, body, want) in [
            (
                Some("Russia and North Korea pledge closer ties"),
                "Russia promised to expand its comprehensive and constructive bilateral \
                 relations with North Korea, in a letter sent by its president to his \
                 counterpart. The two leaders exchanged letters on the anniversary.",
                Some("en"),
            ),
            (
                None,
                "Le gouvernement français a annoncé mardi une série de mesures pour \
                 soutenir les ménages face à la hausse des prix de l'énergie.",
                Some("fr"),
            ),
            (
                None,
                "Die Bundesregierung hat am Dienstag ein neues Entlastungspaket für \
                 Bürgerinnen und Bürger beschlossen, wie ein Sprecher mitteilte.",
                Some("de"),
            ),
            (
                None,
                "El Gobierno español aprobó este martes un nuevo paquete de medidas para \
                 hacer frente a la subida de los precios de la energía.",
                Some("es"),
            ),
            (
                None,
                "Президент России Владимир Путин направил письмо лидеру Северной Кореи \
                 Ким Чен Ыну, сообщило государственное агентство.",
                Some("ru"),
            ),
            (None, "", None),
            (Some("Short"), "Too short.", None),
            (
                None,
                "1234 5678 9012 — 3456 !!! ??? ... 7890 1234 5678",
                None,
            ),
        ] {
            let got = lang.detect(headline, body);
            assert_eq!(got.as_ref().map(|l| l.code.as_str()), want, "{body:?}");
            if let Some(l) = got {
                assert!((MIN_CONFIDENCE..=100).contains(&l.confidence), "{l:?}");
            }
        }
    }

    #[test]
    fn english_fast_path_agrees_with_whatlang() {
        let lang = Language::new();
        let text = "The minister said on Tuesday that the government would not change its \
                    plans for the budget, which has been criticised by the opposition and by \
                    business groups. He added that talks with the unions were going well and \
                    that a deal could be reached by the end of the month.";
        let share = english_share(["", text]).expect("enough words");
        assert!(share >= ENGLISH_MIN_SHARE, "{share}");
        let slow = lang.detector.detect(text).expect("whatlang");
        assert_eq!(slow.lang(), Lang::Eng);
        assert_eq!(lang.detect(None, text).map(|l| l.code), Some("en".into()));
        // other languages stay far below the threshold
        for other in [
            "Le gouvernement a annoncé mardi une série de mesures pour soutenir les ménages \
             face à la hausse des prix de l'énergie, a déclaré le ministre, qui a ajouté que \
             les discussions avec les syndicats se passaient bien et qu'un accord était possible.",
            "De minister zei dinsdag dat de regering haar plannen voor de begroting niet zal \
             wijzigen, die door de oppositie en door het bedrijfsleven is bekritiseerd. Hij voegde \
             eraan toe dat de gesprekken met de vakbonden goed verliepen en dat een akkoord mogelijk was.",
        ] {
            let share = english_share(["", other]).expect("enough words");
            assert!(share < 0.1, "{share}: {other}");
        }
    }

    #[test]
    fn bcp47_codes() {
        for (lang, code) in [
            (Lang::Eng, "en"),
            (Lang::Cmn, "zh"),
            (Lang::Pes, "fa"),
            (Lang::Nob, "nb"),
            (Lang::Ukr, "uk"),
        ] {
            assert_eq!(bcp47(lang), code);
        }
        for lang in Lang::all() {
            let code = bcp47(*lang);
            assert!(code.len() == 2 || code.len() == 3, "{lang:?}");
        }
    }

    #[test]
    fn sample_is_cut_on_a_word_boundary() {
        let text = "aé ".repeat(1000);
        let end = sample_end(&text, SAMPLE_BYTES);
        assert!(end <= SAMPLE_BYTES && text.is_char_boundary(end));
        assert_eq!(sample_end("short", SAMPLE_BYTES), 5);
    }
}
