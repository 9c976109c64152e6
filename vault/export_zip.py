"""The export as a ZIP, written while it is read (GDPR Art. 20: a portable, common format).

The archive holds `README.txt`, `vault.json`, one CSV per section and every receipt as
`receipts/<agreement>/<receipt>.jws`. `VaultZip` owns the unit of work it reads through:
it opens one when made and closes it when the last byte is out or the download is dropped,
so whoever serves it can hand the bytes on as they come, with memory for one batch.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from schemas.export import EXPORT_SECTIONS
from schemas.spreadsheet_cells import csv_cell
from vault.export import BATCH_SIZE, CustomerExport
from vault.unit_of_work import UnitOfWork, Vault

__all__ = ["VaultZip", "csv_cell", "csv_rows", "vault_json", "zip_chunks"]

FLUSH_AT = 64 * 1024  # bytes gathered before a piece is handed on


def csv_rows(model: type[BaseModel], rows: Iterable[BaseModel]) -> Iterator[bytes]:
    """Yield a CSV of the rows, UTF-8 with a byte order mark and a header row, in pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(model.model_fields))
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow([csv_cell(value) for value in row.model_dump(mode="json").values()])
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def vault_json(export: CustomerExport) -> Iterator[str]:
    """Yield `vault.json` piece by piece: the same document as `export_vault`, streamed."""
    header = export.header().model_dump(mode="json")
    yield "{\n"
    for key, value in header.items():
        yield f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n"
    sections = export.sections()
    for position, (name, rows) in enumerate(sections):
        yield f"  {json.dumps(name)}: ["
        separator = "\n    "
        for row in rows():
            yield separator + row.model_dump_json()
            separator = ",\n    "
        closing = "]" if separator == "\n    " else "\n  ]"
        yield closing + (",\n" if position < len(sections) - 1 else "\n")
    yield "}\n"


class _Pipe:
    """Where zipfile writes: it keeps the bytes until they are taken, and cannot seek.

    zipfile sees a stream it cannot seek and writes each entry's sizes after its data
    (a data descriptor), so no entry has to be known in full before it is written.
    """

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the bytes wait until they are taken."""

    def take(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        self.size = 0
        return data


def zip_chunks(export: CustomerExport, readme: str) -> Iterator[bytes]:
    """Yield the ZIP of the export in pieces, reading and writing one batch at a time."""
    pipe = _Pipe()
    stamp = export.uow.now().timetuple()[:6]
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def entry(name: str, pieces: Iterable[bytes]) -> Iterator[bytes]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # the owner's alone, once unpacked
            with archive.open(info, "w") as member:
                for piece in pieces:
                    member.write(piece)
                    if pipe.size >= FLUSH_AT:
                        yield pipe.take()

        yield from entry("README.txt", [readme.encode()])
        yield pipe.take()  # the first bytes go out at once: the download visibly starts
        yield from entry("vault.json", (text.encode() for text in vault_json(export)))
        for name, rows in export.sections():
            yield from entry(f"{name}.csv", csv_rows(EXPORT_SECTIONS[name], rows()))
        for receipt in export.receipts():
            path = f"receipts/{receipt.agreement_id}/{receipt.id}.jws"
            yield from entry(path, [receipt.jws.encode()])
    yield pipe.take()


class VaultZip:
    """One customer's vault as a ZIP, streamed; it owns its unit of work until closed."""

    def __init__(
        self,
        vault: Vault,
        customer_id: uuid.UUID,
        *,
        readme: str,
        locale: str | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._uow: UnitOfWork | None = vault.unit_of_work(write=False)
        try:
            # Reading the account now lets a missing customer fail before the first byte.
            self.export = CustomerExport(
                self._uow, customer_id, locale=locale, batch_size=batch_size
            )
        except BaseException:
            self.close()
            raise
        self.readme = readme

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from zip_chunks(self.export, self.readme)
        finally:
            self.close()

    def close(self) -> None:
        """End the unit of work (again is harmless): the download is over or dropped."""
        uow, self._uow = self._uow, None
        if uow is not None:
            uow.__exit__(None, None, None)
