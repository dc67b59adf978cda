FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contact_center contact_center
COPY ivr ivr
COPY channels channels
COPY routing routing
COPY agent_console agent_console
COPY voicexml voicexml
RUN pip install --no-cache-dir ".[voice,email]"
EXPOSE 8080
CMD ["contact-center", "serve", "--host", "0.0.0.0"]
