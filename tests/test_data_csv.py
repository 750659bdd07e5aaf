"""lm.data.csv on real files: header, quotes, missing values, defaults, labels, dtypes,
delimiters, file:line errors, and quoting checked against Python's csv module."""

import csv as stdlib_csv
import random

import pytest

import lamina as lm


@pytest.fixture
def write(tmp_path):
    def write_file(text, name="data.csv", newline=None):
        path = tmp_path / name
        with open(path, "w", encoding="utf-8", newline=newline) as f:
            f.write(text)
        return path

    return write_file


def test_header_numbers_and_text(write):
    path = write("a,b,name\n1,2.5,x\n-3,1e3,hello world\n")
    ds = lm.data.csv(path)
    assert ds.size is None and ds.column_names() == ["a", "b", "name"]
    assert ds.to_array() == [{"a": 1.0, "b": 2.5, "name": "x"}, {"a": -3.0, "b": 1000.0, "name": "hello world"}]
    assert ds.to_array() == ds.to_array()  # every pass reads the file again


def test_labels_make_xs_ys_elements_as_tfjs(write):
    # tfjs_semantics.md §9.2 (verified): [{"xs":{"a":1,"b":2},"ys":{"label":0}},{"xs":{"a":3},"ys":{"label":1}}]
    # -- a missing b is absent in TF.js's JSON; lamina gives None.
    path = write("a,b,label\n1,2,0\n3,,1\n")
    ds = lm.data.csv(path, column_configs={"label": {"is_label": True}})
    assert ds.to_array() == [{"xs": {"a": 1, "b": 2}, "ys": {"label": 0}},
                             {"xs": {"a": 3, "b": None}, "ys": {"label": 1}}]


def test_labelled_rows_batch_into_fit_ready_tensors(write):
    path = write("x1,x2,y\n" + "".join(f"{i},{2 * i},{i % 2}\n" for i in range(5)))
    ds = lm.data.csv(path, column_configs={"y": {"isLabel": True}}).map(
        lambda e: {"xs": list(e["xs"].values()), "ys": list(e["ys"].values())}).batch(2)
    batches = list(ds)
    assert [b["xs"].shape for b in batches] == [[2, 2], [2, 2], [1, 2]]
    assert batches[1]["xs"].array() == [[2, 4], [3, 6]] and batches[1]["ys"].array() == [[0], [1]]


def test_quoted_fields(write):
    path = write('id,text\n1,"a, b"\n2,"say ""hi"""\n3,""\n4,"multi\nline"\n5,plain "quote" inside\n')
    rows = lm.data.csv(path, column_configs={"text": {"dtype": "string"}}).to_array()
    assert [r["text"] for r in rows] == ["a, b", 'say "hi"', None, "multi\nline", 'plain "quote" inside']
    # a quoted number is still a number, as TF.js parses the unquoted text
    assert lm.data.csv(write('a\n"12"\n', "q.csv")).to_array() == [{"a": 12.0}]


def test_quoting_matches_pythons_csv_module(write):
    # An independent oracle: random fields with delimiters, quotes, "\n" and "\r", written by
    # the stdlib writer (quoting as needed or always) and read back by both readers. (The
    # writer quotes a "\r" only when it is in its lineterminator; the stdlib reader ends a
    # record at an unquoted "\r", where TF.js does not: see the test below.)
    rng = random.Random(0)
    alphabet = ['a', 'b', ',', '"', ' ', '\n', '\r', 'x', '1']
    rows = [["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(3)] for _ in range(200)]
    for quoting, line_end in ((stdlib_csv.QUOTE_MINIMAL, "\r\n"), (stdlib_csv.QUOTE_ALL, "\n")):
        path = write("", f"fuzz{quoting}.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = stdlib_csv.writer(f, quoting=quoting, lineterminator=line_end)
            writer.writerow(["c0", "c1", "c2"])
            writer.writerows(rows)
        with open(path, newline="", encoding="utf-8") as f:
            expected = list(stdlib_csv.reader(f))[1:]
        strings = {f"c{i}": {"dtype": "string"} for i in range(3)}
        got = lm.data.csv(path, column_configs=strings).to_array()
        # lamina reads a field of blanks as missing (None); compare on the rest
        assert [[row[f"c{i}"] for i in range(3)] for row in got] == [
            [value if value.strip() else None for value in row] for row in expected]


def test_missing_values_defaults_and_required(write):
    path = write("a,b,c\n1,,\n,5,6\n")
    ds = lm.data.csv(path, column_configs={"b": {"default": -1}, "c": {"default": "none"}})
    assert ds.to_array() == [{"a": 1, "b": -1, "c": "none"}, {"a": None, "b": 5, "c": 6}]
    with pytest.raises(ValueError, match=r"data\.csv:3: Required column a is empty in this line: ,5,6$"):
        lm.data.csv(path, column_configs={"a": {"required": True}}).to_array()
    with pytest.raises(ValueError, match=r"data\.csv:2: Required column c is empty in this line"):
        lm.data.csv(path, column_configs={"c": {"is_label": True}}).to_array()


def test_wrong_field_counts_name_the_file_and_line(write):
    path = write("a,b\n1,2\n\n3,4,5\n6,7\n")  # the bad row is on line 4 (a blank line 3 is skipped)
    ds = lm.data.csv(path)
    with pytest.raises(ValueError) as error:
        ds.to_array()
    assert str(error.value) == (f"{path}:4: Invalid row in csv file. Should have 2 elements in a row, "
                                "but got 3,4,5")
    with pytest.raises(ValueError, match=r"data\.csv:2: Invalid row in csv file. Should have 2 elements in a "
                                         r"row, but got 1$"):
        lm.data.csv(write("a,b\n1\n")).to_array()


def test_line_numbers_count_the_lines_of_multiline_fields(write):
    path = write('a,b\n1,"two\nlines"\n3\n')
    with pytest.raises(ValueError, match=r":4: Invalid row"):
        lm.data.csv(path).to_array()
    with pytest.raises(ValueError, match=r":2: a quoted field opened on this line is not closed"):
        lm.data.csv(write('a,b\n1,"open\n2,3\n', "open.csv")).to_array()


def test_elements_before_a_bad_row_are_delivered(write):
    path = write("a\n1\n2\n3,4\n")
    got = []
    with pytest.raises(ValueError, match=":4:"):
        for element in lm.data.csv(path):
            got.append(element)
    assert got == [{"a": 1}, {"a": 2}]


def test_dtypes(write):
    path = write("i,f,b,s\n2.7,2.7,true,12\n-1.5,3,0,x\n7,1,TRUE,\n")
    ds = lm.data.csv(path, column_configs={"i": {"dtype": "int32"}, "f": {"dtype": "float32"},
                                           "b": {"dtype": "bool"}, "s": {"dtype": "string"}})
    rows = ds.to_array()
    assert [r["i"] for r in rows] == [2, -2, 7]  # Math.floor
    assert [r["f"] for r in rows] == [2.7, 3.0, 1.0]
    assert [r["b"] for r in rows] == [1, 0, 1]
    assert [r["s"] for r in rows] == ["12", "x", None]


def test_text_that_js_number_rejects_stays_text(write):
    rows = lm.data.csv(write("v\nnan\n1_000\n0x\nInfinity\n.5\n")).to_array()
    assert [r["v"] for r in rows] == ["nan", "1_000", "0x", float("inf"), 0.5]


def test_configured_columns_only(write):
    path = write("a,b,c\n1,2,3\n")
    ds = lm.data.csv(path, column_configs={"c": {}, "a": {}}, configured_columns_only=True)
    assert ds.to_array() == [{"a": 1, "c": 3}]  # file order, as TF.js
    assert ds.column_names() == ["c", "a"]  # the configs' order, as TF.js's columnNames()


def test_column_names_with_and_without_a_header(write):
    headed = write("a,b\n1,2\n", "headed.csv")
    assert lm.data.csv(headed, column_names=["x", "y"]).to_array() == [{"x": 1, "y": 2}]
    bare = write("1,2\n3,4\n", "bare.csv")
    assert lm.data.csv(bare, has_header=False, column_names=["x", "y"]).to_array() == [{"x": 1, "y": 2},
                                                                                      {"x": 3, "y": 4}]
    with pytest.raises(ValueError, match="^Column names must be provided if there is no header line.$"):
        lm.data.csv(bare, has_header=False)
    with pytest.raises(ValueError, match=r"The length of provided column_names \(3\) does not match the length of "
                                         r"the header line read from file \(2\)."):
        lm.data.csv(headed, column_names=["x", "y", "z"])


def test_delimiters(write):
    semicolons = write("a;b\n1;2\n", "semi.csv")
    assert lm.data.csv(semicolons, delimiter=";").to_array() == [{"a": 1, "b": 2}]
    spaces = write("a   b\tc\n  1  2 3  \n4 \"x y\" 5\n", "spaces.csv")
    assert lm.data.csv(spaces, delim_whitespace=True).to_array() == [{"a": 1, "b": 2, "c": 3},
                                                                    {"a": 4, "b": "x y", "c": 5}]
    with pytest.raises(ValueError, match="^Delimiter should not be provided when delim_whitespace is true.$"):
        lm.data.csv(spaces, delimiter=";", delim_whitespace=True)
    with pytest.raises(ValueError, match="delimiter must be one character other than a quote"):
        lm.data.csv(semicolons, delimiter=";;")


def test_windows_line_endings_and_file_urls(write):
    path = write("a,b\r\n1,2\r\n", newline="")
    assert lm.data.csv(f"file://{path}").to_array() == [{"a": 1, "b": 2}]


def test_a_lone_carriage_return_stays_in_its_field_as_tfjs(write):
    # TF.js splits the text at "\n" and drops one "\r" before it (TextLineDataset); any other
    # "\r" is an ordinary character of its field, quoted or not.
    path = write('id,text\r\n1,a\rb\r\n2,"c\rd"\n3,e\r\r\n4,"f,\rg"\r\n', newline="")
    rows = lm.data.csv(path, column_configs={"text": {"dtype": "string"}}).to_array()
    assert rows == [{"id": 1, "text": "a\rb"}, {"id": 2, "text": "c\rd"}, {"id": 3, "text": "e\r"},
                    {"id": 4, "text": "f,\rg"}]
    # the header line too, and a number followed by a lone "\r" is still the number (JS's Number)
    path = write('a\rb,c\n1\r,2\n', "header.csv", newline="")
    ds = lm.data.csv(path)
    assert ds.column_names() == ["a\rb", "c"] and ds.to_array() == [{"a\rb": 1.0, "c": 2.0}]
    # with delim_whitespace only spaces and tabs separate fields
    path = write("a b\nx\ry 2\n", "blanks.csv", newline="")
    assert lm.data.csv(path, delim_whitespace=True).to_array() == [{"a": "x\ry", "b": 2.0}]


def test_line_breaks_inside_a_quoted_field_are_kept_as_written(write):
    # RFC 4180, as Python's csv module reads it (lamina's choice; TF.js refuses these fields)
    text = 'id,text\r\n1,"two\r\nlines"\r\n2,"unix\nbreak"\n'
    path = write(text, newline="")
    rows = lm.data.csv(path, column_configs={"text": {"dtype": "string"}}).to_array()
    with open(path, newline="", encoding="utf-8") as f:
        expected = list(stdlib_csv.reader(f))[1:]
    assert [r["text"] for r in rows] == [row[1] for row in expected] == ["two\r\nlines", "unix\nbreak"]


def test_bad_configs_and_files(write, tmp_path):
    path = write("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r'The key "c" provided in column_configs does not match any of the column '
                                         r"names \(a,b\)."):
        lm.data.csv(path, column_configs={"c": {"required": True}})
    with pytest.raises(ValueError, match=r"column_configs\['a'\] has unknown key\(s\) 'label'"):
        lm.data.csv(path, column_configs={"a": {"label": True}})
    with pytest.raises(ValueError, match=r"column_configs\['a'\]\['dtype'\] must be one of float32, int32, bool, "
                                         r"string, got 'int64'"):
        lm.data.csv(path, column_configs={"a": {"dtype": "int64"}})
    with pytest.raises(ValueError, match="^Duplicate column names found: a$"):
        lm.data.csv(write("a,b,a\n1,2,3\n", "dup.csv"))
    with pytest.raises(ValueError, match="No data was found for CSV parsing."):
        lm.data.csv(write("", "empty.csv"))
    with pytest.raises(FileNotFoundError, match="csv: no such file"):
        lm.data.csv(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="csv: path must be a str or a path, got int"):
        lm.data.csv(3)
    with pytest.raises(TypeError, match="has_header must be True or False"):
        lm.data.csv(path, has_header="yes")


def test_an_abandoned_pass_closes_the_file(write):
    # pytest turns warnings into errors: an unclosed file would raise ResourceWarning
    path = write("a\n" + "1\n" * 100)
    stream = iter(lm.data.csv(path).shuffle(5).prefetch(2))
    next(stream)
    stream.close()


def test_a_large_file_streams_through_batches(write):
    path = write("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(5000)))
    ds = lm.data.csv(path, column_configs={"y": {"is_label": True}}).map(
        lambda e: (e["xs"]["x"], e["ys"]["y"])).batch(1000).prefetch(1)
    total = sum(float(x.sum()) for x, _ in ds)
    assert total == sum(range(5000))
