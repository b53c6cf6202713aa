// Package packaging holds no code: it is how rollcall is installed as a
// service, and its tests check that. rollcall.service is the systemd unit
// (checked with systemd-analyze verify); nfpm.yaml, postinst, prerm and
// postrm make the Debian package (make deb, checked with dpkg-deb);
// version.sh prints the version both stamp.
package packaging
