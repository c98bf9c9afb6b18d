"""The papers of a consolidation batch, its proposal letter and annexes, made from plain data (no Flask,
no database).

- :mod:`.letter`: the proposal letter (PDF, Nghị định 30/2020 layout, with the form and signature fields
  token_agent fills and signs);
- :mod:`.annex`: the annex's tables as data; :mod:`.annex_pdf` lays them out as PDF, :mod:`.annex_tables`
  as XLSX and CSV;
- :mod:`.text`: the fonts and text measuring the PDFs share.

What a batch's documents contain is :mod:`certsvc.requests.letters`.
"""
