"""`python -m kodeio.data.samples`: rebuild aihub_ko_en_sample.xlsx from its TSV source."""

from kodeio.data.samples import AIHUB_TSV, AIHUB_XLSX, SAMPLE_DIR, build_aihub_xlsx

print(build_aihub_xlsx(SAMPLE_DIR / AIHUB_TSV, SAMPLE_DIR / AIHUB_XLSX))
