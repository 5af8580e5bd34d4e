"""The hotspot captive portal: plain HTML/CSS pages, a little JavaScript, English and Swahili."""
