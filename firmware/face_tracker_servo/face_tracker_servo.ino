// Copyright 2026 The face_tracker_ros authors
// SPDX-License-Identifier: Apache-2.0
//
// face_tracker_servo: reference firmware for the face_tracker_ros ASCII servo
// protocol. docs/serial-protocol.md is the specification; this sketch follows
// it exactly, and face_tracker_ros/sim/firmware.py emulates it.
//
// Wiring: pan servo signal on pin 9, tilt servo signal on pin 10, servo power
// from a separate 5-6 V supply with its ground joined to the Arduino's.
// Serial: 115200 baud 8N1, one command per '\n'-terminated line.

#include <Servo.h>
#include <stdlib.h>
#include <string.h>

static const long BAUD_RATE = 115200;
static const int PAN_PIN = 9;
static const int TILT_PIN = 10;
static const long MIN_US = 500;      // MOVE outside MIN_US..MAX_US gets ERR RANGE
static const long MAX_US = 2500;
static const int HOME_US = 1500;
static const size_t MAX_LINE = 64;   // characters per line, without '\r' and '\n'
static const size_t MAX_ECHO = 40;   // characters of an unknown command echoed back
static const char VERSION_TEXT[] = "face_tracker_servo 1.0";
static const size_t MAX_WORDS = 4;   // more words than any command takes

Servo pan;
Servo tilt;
char line[MAX_LINE + 2];             // the characters, an optional '\r', a NUL
size_t lineLength = 0;
bool discarding = false;             // rest of a line already reported too long

// True when text is a whole decimal integer ([+-]digits); stores its value.
// strtol saturates on overflow, which the range check then rejects.
bool parseInteger(const char *text, long *value) {
  const char *digits = (*text == '+' || *text == '-') ? text + 1 : text;
  if (*digits == '\0') {
    return false;
  }
  for (const char *c = digits; *c != '\0'; c++) {
    if (*c < '0' || *c > '9') {
      return false;
    }
  }
  *value = strtol(text, NULL, 10);
  return true;
}

void handleMove(char **words, size_t count) {
  long panUs = 0;
  long tiltUs = 0;
  if (count != 3 || !parseInteger(words[1], &panUs) || !parseInteger(words[2], &tiltUs)) {
    Serial.println("ERR SYNTAX usage: MOVE <pan_us> <tilt_us>");
  } else if (panUs < MIN_US || panUs > MAX_US) {
    Serial.println("ERR RANGE pan_us not in 500..2500");
  } else if (tiltUs < MIN_US || tiltUs > MAX_US) {
    Serial.println("ERR RANGE tilt_us not in 500..2500");
  } else {
    pan.writeMicroseconds((int)panUs);
    tilt.writeMicroseconds((int)tiltUs);
    Serial.println("OK");
  }
}

// Execute one complete line (without '\r' '\n', NUL-terminated).
void handleLine(char *text, size_t length) {
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c > 0x7E) {
      Serial.println("ERR SYNTAX non-ASCII or control byte");
      return;
    }
  }
  char *words[MAX_WORDS];
  size_t count = 0;
  for (char *w = strtok(text, " "); w != NULL && count < MAX_WORDS; w = strtok(NULL, " ")) {
    words[count++] = w;
  }
  if (count == 0) {
    return;                          // blank line: no reply
  }
  char *cmd = words[0];
  if (strcmp(cmd, "MOVE") == 0) {
    handleMove(words, count);
    return;
  }
  bool known = strcmp(cmd, "PING") == 0 || strcmp(cmd, "VERSION") == 0 ||
    strcmp(cmd, "POS?") == 0 || strcmp(cmd, "HOME") == 0;
  if (!known) {
    if (strlen(cmd) > MAX_ECHO) {
      cmd[MAX_ECHO] = '\0';
    }
    Serial.print("ERR UNKNOWN ");
    Serial.println(cmd);
  } else if (count > 1) {
    Serial.print("ERR SYNTAX ");
    Serial.print(cmd);
    Serial.println(" takes no arguments");
  } else if (strcmp(cmd, "PING") == 0) {
    Serial.println("PONG");
  } else if (strcmp(cmd, "VERSION") == 0) {
    Serial.print("VERSION ");
    Serial.println(VERSION_TEXT);
  } else if (strcmp(cmd, "POS?") == 0) {
    // No position feedback on a hobby servo: report the pulses being output.
    Serial.print("POS ");
    Serial.print(pan.readMicroseconds());
    Serial.print(' ');
    Serial.println(tilt.readMicroseconds());
  } else {                           // HOME
    pan.writeMicroseconds(HOME_US);
    tilt.writeMicroseconds(HOME_US);
    Serial.println("OK");
  }
}

// Collect one received byte into the line buffer.
void receive(char c) {
  if (c == '\n') {
    if (!discarding) {
      if (lineLength > 0 && line[lineLength - 1] == '\r') {
        lineLength--;
      }
      line[lineLength] = '\0';
      if (lineLength > MAX_LINE) {
        Serial.println("ERR SYNTAX line too long");
      } else {
        handleLine(line, lineLength);
      }
    }
    lineLength = 0;
    discarding = false;
  } else if (discarding) {
    // drop the rest of an overlong line
  } else if (lineLength == MAX_LINE + 1) {
    Serial.println("ERR SYNTAX line too long");
    lineLength = 0;
    discarding = true;
  } else {
    line[lineLength++] = c;
  }
}

void setup() {
  // attach() with explicit limits: writeMicroseconds clamps to them.
  pan.attach(PAN_PIN, (int)MIN_US, (int)MAX_US);
  tilt.attach(TILT_PIN, (int)MIN_US, (int)MAX_US);
  pan.writeMicroseconds(HOME_US);
  tilt.writeMicroseconds(HOME_US);
  Serial.begin(BAUD_RATE);
  Serial.println("READY");
}

void loop() {
  while (Serial.available() > 0) {
    receive((char)Serial.read());
  }
}
