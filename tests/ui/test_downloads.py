"""A download's name reaches the browser whatever it is: headers travel as Latin-1."""

from __future__ import annotations

import pytest

from certsvc.ui.downloads import content_disposition


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("du-thao.pdf", 'attachment; filename="du-thao.pdf"'),
        (
            "Đơn đề nghị.pdf",
            'attachment; filename="Don de nghi.pdf"; '
            "filename*=UTF-8''%C4%90%C6%A1n%20%C4%91%E1%BB%81%20ngh%E1%BB%8B.pdf",
        ),
        ("cccd\r\nmai\t2.png", 'attachment; filename="cccd mai 2.png"'),
        ('a"b\\c.pdf', "attachment; filename=\"a'b-c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"),
        ("\x00\x1f", 'attachment; filename="tep-tai-ve"'),
        ("ảnh.png", "attachment; filename=\"anh.png\"; filename*=UTF-8''%E1%BA%A3nh.png"),
    ],
)
def test_the_header_names_the_file_in_ascii_and_in_full(name, header):
    assert content_disposition(name) == header
    header.encode("latin-1")
