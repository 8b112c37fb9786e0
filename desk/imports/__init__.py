"""Imports: the platforms' lead exports and the dealer's existing owners, in bulk.

The pieces (one module each):
- `rows`: the shapes passed between them (this contract is shared).
- `read`: a .csv (UTF-8/GBK) or .xlsx file streamed row by row; headers mapped to
  fields by the synonyms in config/imports.toml; each row parsed into a `LeadRow`
  (`OwnerRow` for owner lists) or a `RejectedRow` (the reason in Chinese, the
  cells kept for the errors file). Under it: `config` (config/imports.toml
  validated), `table` (bytes to rows, the header row), `cells` (one cell to a value).
- `write`: the batch write path: rows classified (created / merged / unchanged /
  duplicate in the file / rejected) and, unless a dry run, written many per
  transaction under the desk's rules; one summary DM per consultant per import.
- `errors`: rejected rows to an .xlsx with a reason column, ready to fix and re-import.
"""
