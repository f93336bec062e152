"""Rating files as the engines are given them (standard library only).

Formats: one rating per line, user<sep>item[<sep>rating[<sep>timestamp]], with sep detected from
the first data line ('::', tab, comma, semicolon, pipe, else spaces); a first line whose third field
is not a number (or, for two-column files, whose fields are user/item words) is a header. These are
the formats of MovieLens-100K's uK.base/uK.test (tab) and of `mf synth` / `mf split` (CSV with a
`user,item,rating,timestamp` header).
"""

SEPARATORS = ("::", "\t", ",", ";", "|")


def detect_separator(line):
    for sep in SEPARATORS:
        if sep in line:
            return sep
    return None  # whitespace


def split_fields(line, sep):
    return line.split(sep) if sep else line.split()


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def first_data_line(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line and not line.startswith("#"):
                return line
    return ""


def file_format(path):
    """(separator or None for whitespace, has_header, field count) of a rating file."""
    line = first_data_line(path)
    sep = detect_separator(line)
    fields = split_fields(line, sep)
    if len(fields) >= 3:
        header = not _is_number(fields[2])
    else:
        header = len(fields) == 2 and fields[0].strip().lower() in ("user", "userid", "user_id")
    return sep, header, len(fields)


def read_ratings(path):
    """[(user, item, rating)] with ids as strings; rating 1.0 for two-column (implicit) files."""
    sep, header, _ = file_format(path)
    out = []
    with open(path, encoding="utf-8") as f:
        skipped_header = not header
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            if not skipped_header:
                skipped_header = True
                continue
            fields = split_fields(line, sep)
            if len(fields) < 2:
                raise ValueError(f"{path}: bad line {line!r}")
            rating = float(fields[2]) if len(fields) >= 3 else 1.0
            out.append((fields[0].strip(), fields[1].strip(), rating))
    return out
