# The worker (SDK harness) image for clirdata builds on Dataflow, Flink or Spark: Beam's Python SDK image
# with clirdata installed. The machine that submits the build must run the same Python and apache-beam
# versions as the image (Beam refuses a mismatch). Build and push it, then pass, after `--`:
#   Dataflow:                      --sdk_container_image=REGISTRY/clirdata:TAG
#   Flink or Spark (a job server): --environment_type=DOCKER --environment_config=REGISTRY/clirdata:TAG
#
#   docker build -t REGISTRY/clirdata:TAG . && docker push REGISTRY/clirdata:TAG
ARG PYTHON_VERSION=3.11
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}
ARG BEAM_VERSION
WORKDIR /opt/clirdata
COPY pyproject.toml README.md ./
COPY clirdata ./clirdata
# Pinning apache-beam keeps pip from replacing the image's Beam with another release. Importing every module
# proves that the workers can unpickle clirdata's steps: all of them import with the image's dependencies.
RUN pip install --no-cache-dir . "apache-beam==${BEAM_VERSION}" \
 && python -c "import importlib, pkgutil, apache_beam, clirdata; \
[importlib.import_module(m.name) for m in pkgutil.walk_packages(clirdata.__path__, 'clirdata.')]; \
assert apache_beam.__version__ == '${BEAM_VERSION}', apache_beam.__version__"
# The SDK image's entrypoint (/opt/apache/beam/boot) stays as it is.
