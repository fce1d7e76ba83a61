package oidcflow
