# Worker and starter image. DuckDB needs cgo, so build and run on glibc.
FROM golang:1.27-bookworm AS build
# go.mod requires 1.27.3 (govulncheck: 1.26.8's standard library); the image
# keeps GOTOOLCHAIN=local, so name the exact toolchain.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -o /out/worker ./worker && CGO_ENABLED=1 go build -o /out/starter ./starter

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/worker /out/starter /app/
WORKDIR /data
ENV TEMPORAL_ADDRESS=temporal:7233
ENTRYPOINT ["/app/worker"]
