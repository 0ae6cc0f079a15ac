"""Small display building blocks: literal text, sparklines, bars, badges, the scatter map."""
