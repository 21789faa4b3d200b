FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/contacthub ./cmd/contacthub

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/contacthub contacthub && mkdir -p /var/lib/contacthub && chown contacthub /var/lib/contacthub
COPY --from=build /out/contacthub /usr/local/bin/contacthub
USER contacthub
ENV CONTACTHUB_DATA_DIR=/var/lib/contacthub
EXPOSE 8080 5060/udp 5060/tcp 2525
ENTRYPOINT ["contacthub"]
CMD ["serve"]
