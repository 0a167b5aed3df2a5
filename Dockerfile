# The worker (SDK harness) image for running clirdata builds on Dataflow, Flink or Spark:
# Beam's Python SDK image with clirdata installed. Build and push it, then pass
#   -- --sdk_container_image=REGISTRY/clirdata:TAG   (plus your runner's options)
FROM apache/beam_python3.11_sdk:2.77.0
WORKDIR /opt/clirdata
COPY pyproject.toml README.md ./
COPY clirdata ./clirdata
RUN pip install --no-cache-dir . && python -c "import clirdata.pipelines.erudit"
# The SDK image's entrypoint (/opt/apache/beam/boot) stays as it is.
